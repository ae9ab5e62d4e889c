import { route, stackFilters } from './docker-proxy';

describe('the Docker proxy of the local Lambda service', () => {
  it.each([
    ['GET', '/containers/json', { kind: 'list' }],
    ['GET', '/v1.41/containers/json?all=1', { kind: 'list' }],
    ['GET', '/events?since=0', { kind: 'events' }],
    ['POST', '/containers/0123456789ab/restart?t=0', { kind: 'restart', id: '0123456789ab' }],
  ])('allows %s %s', (method, url, expected) => {
    expect(route(method, url)).toEqual(expected);
  });

  it.each([
    ['POST', '/containers/create'],
    ['DELETE', '/containers/0123456789ab'],
    ['POST', '/containers/0123456789ab/exec'],
    ['POST', '/containers/0123456789ab/kill'],
    ['GET', '/containers/0123456789ab/json'],
    ['GET', '/images/json'],
    ['POST', '/containers/../../images/create/restart'],
  ])('refuses %s %s', (method, url) => {
    expect(route(method, url)).toMatchObject({ kind: 'refused', reason: expect.stringContaining('is not allowed') });
  });

  it('lists and watches only the function containers labelled with its stack', () => {
    expect(JSON.parse(decodeURIComponent(stackFilters('lambda-pipelines', { event: ['die'] })))).toEqual({
      label: ['lambda-pipelines.stack=lambda-pipelines', 'lambda-pipelines.function'],
      event: ['die'],
    });
  });
});
