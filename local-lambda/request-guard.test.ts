import { BodyBudget, foreignRequest, isAllowedHost, isLoopbackOrigin, unsupportedContentType } from './request-guard';

describe('the request guard of the local endpoints', () => {
  it('answers only to loopback names and the service\'s own name: a rebound host is foreign', () => {
    for (const host of ['127.0.0.1:9001', 'localhost:9001', 'LOCALHOST', '[::1]:9010', 'dashboard.localhost:9080', '127.0.0.2'])
      expect([host, isAllowedHost(host)]).toEqual([host, true]);
    for (const host of ['rebind.evil.example:9001', 'evil.example', '127.0.0.1.evil.example', 'localhost.evil.example:9001', '', '0.0.0.0:9001', '192.168.1.10:9001', 'local-lambda:9001', 'a b'])
      expect([host, isAllowedHost(host)]).toEqual([host, false]);
    expect(isAllowedHost(undefined)).toBe(false);
    expect(isAllowedHost('local-lambda:9001', ['local-lambda'])).toBe(true);
  });

  it('takes only pages of this machine as origins', () => {
    expect(['http://127.0.0.1:9080', 'http://localhost:9080', 'https://localhost', 'http://[::1]:3000'].map(isLoopbackOrigin)).toEqual([true, true, true, true]);
    expect(['https://evil.example', 'null', 'http://127.0.0.1.evil.example', 'file://', 'http://localhost:9080/path', 'ftp://localhost'].map(isLoopbackOrigin)).toEqual([false, false, false, false, false, false]);
  });

  it('refuses a foreign Host, a foreign Origin, or a cross-site fetch without Origin, with a sentence', () => {
    expect(foreignRequest({ host: '127.0.0.1:9001' })).toBeUndefined();
    expect(foreignRequest({ host: '127.0.0.1:9001', origin: 'http://127.0.0.1:9080' })).toBeUndefined();
    expect(foreignRequest({ host: '127.0.0.1:9001', 'sec-fetch-site': 'same-site' })).toBeUndefined();
    expect(foreignRequest({ host: 'rebind.evil.example:9001' })).toBe('this endpoint answers only at 127.0.0.1 or localhost, not "rebind.evil.example:9001" (a web page cannot reach it through DNS rebinding)');
    expect(foreignRequest({})).toMatch(/not a request without Host/);
    expect(foreignRequest({ host: '127.0.0.1:9001', origin: 'https://evil.example' })).toBe('a request from the page "https://evil.example" is cross-site: only pages served from 127.0.0.1 or localhost may call the local stack');
    expect(foreignRequest({ host: '127.0.0.1:9001', origin: 'null' })).toMatch(/cross-site/);
    expect(foreignRequest({ host: '127.0.0.1:9001', 'sec-fetch-site': 'cross-site' })).toMatch(/Sec-Fetch-Site: cross-site/);
  });

  it('lets through the content types the SDKs and CLIs send, not the ones a page may post without a preflight', () => {
    for (const type of [undefined, '', 'application/json', 'application/x-amz-json-1.1', 'application/octet-stream', 'binary/octet-stream', 'application/json; charset=utf-8'])
      expect([type, unsupportedContentType(type)]).toEqual([type, undefined]);
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/html'])
      expect(unsupportedContentType(type)).toMatch(/is not one the AWS SDKs send/);
  });

  it('bounds the bodies held at once: a reservation past the budget is refused, a release makes room', () => {
    const budget = new BodyBudget(10);
    const a = budget.reserve(6)!;
    expect(budget.reserve(6)).toBeUndefined();
    const b = budget.reserve(4)!;
    a();
    a(); // a second release changes nothing
    expect(budget.usage).toEqual({ usedBytes: 4, peakBytes: 10, limitBytes: 10, refused: 1 });
    b();
    // A body larger than the budget alone still goes through (one at a time): the limit on one body is the endpoint's.
    const big = budget.reserve(50);
    expect(big).toBeDefined();
    expect(budget.reserve(1)).toBeUndefined();
  });
});
