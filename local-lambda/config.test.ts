import { defaultAccountConcurrency, loadServiceConfig } from './config';

const base = { STACK_TEMPLATE: 'cdk.out/S.template.json', DOCKER_PROXY_URL: 'http://docker-proxy:2375' };

describe("the local Lambda service's settings", () => {
  it('sizes the account concurrency for the machine: 4 per core, no more than the memory holds at 512 MB each, 2 at least', () => {
    expect(defaultAccountConcurrency(2, 24 * 2 ** 30)).toBe(8);
    expect(defaultAccountConcurrency(16, 4 * 2 ** 30)).toBe(8);
    expect(defaultAccountConcurrency(1, 2 ** 29)).toBe(2);
  });

  it('takes ACCOUNT_CONCURRENCY when given, the default when empty (compose passes it empty), and names a bad one', () => {
    expect(loadServiceConfig({ ...base, ACCOUNT_CONCURRENCY: '40' }).ACCOUNT_CONCURRENCY).toBe(40);
    expect(loadServiceConfig({ ...base, ACCOUNT_CONCURRENCY: '' }).ACCOUNT_CONCURRENCY).toBe(defaultAccountConcurrency());
    expect(() => loadServiceConfig({ ...base, ACCOUNT_CONCURRENCY: '1' })).toThrow('ACCOUNT_CONCURRENCY="1" is invalid: must be at least 2');
    expect(() => loadServiceConfig({ ...base, IDLE_ENVIRONMENT_SECONDS: 'soon' })).toThrow('IDLE_ENVIRONMENT_SECONDS="soon" is invalid');
  });
});
