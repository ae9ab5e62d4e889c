import { parseTimeoutOverrides } from './timeout-overrides';

describe('parseTimeoutOverrides', () => {
  const names = ['thumbnail', 'notify'];

  it('reads name=seconds pairs', () => {
    expect([...parseTimeoutOverrides(' notify=3, thumbnail=120 ', names)]).toEqual([['notify', 3], ['thumbnail', 120]]);
    expect(parseTimeoutOverrides('', names).size).toBe(0);
  });

  it.each([
    ['notify', /not name=seconds/],
    ['notify=2.5', /not name=seconds/],
    ['audit=3', /not a function of the stack \(thumbnail, notify\)/],
    ['notify=0', /outside Lambda's 1..900 s/],
    ['notify=901', /outside/],
  ])('rejects %s', (value, message) => {
    expect(() => parseTimeoutOverrides(value, names)).toThrow(message);
  });
});
