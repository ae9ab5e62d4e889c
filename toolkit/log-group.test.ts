import { sinceMs } from './log-group';

describe('SINCE= of make cost and make logs', () => {
  it('takes a duration ago or an ISO time, and says what it wants otherwise', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    expect(sinceMs(undefined, now)).toBeUndefined();
    expect(sinceMs('30m', now)).toBe(now - 30 * 60_000);
    expect(sinceMs('2h', now)).toBe(now - 2 * 3_600_000);
    expect(sinceMs('2026-11-29T11:00:00Z', now)).toBe(now - 3_600_000);
    expect(() => sinceMs('yesterday', now)).toThrow('SINCE=yesterday: give a duration (30m, 2h, 1d) or an ISO time');
  });
});
