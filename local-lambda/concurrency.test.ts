import { AccountConcurrency, ConcurrencyError, FunctionConcurrency } from './concurrency';

describe("Lambda's concurrency", () => {
  it('gives a reserved function exactly its reservation, and names the reason of a throttle', () => {
    const account = new AccountConcurrency(10, 1);
    const fn = new FunctionConcurrency('thumbnail', account, 2);
    expect(fn.acquire()).toEqual({ ok: true });
    expect(fn.acquire()).toEqual({ ok: true });
    expect(fn.acquire()).toEqual({ ok: false, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    expect(fn.throttles).toBe(1);
    fn.release();
    expect(fn.acquire()).toEqual({ ok: true });
    // The reservation is taken out of what the others share.
    expect(account.unreservedLimit).toBe(8);
  });

  it('lets the functions without a reservation share what the account has left', () => {
    const account = new AccountConcurrency(4, 1);
    new FunctionConcurrency('reserved', account, 1);
    const a = new FunctionConcurrency('a', account);
    const b = new FunctionConcurrency('b', account);
    expect([a.acquire(), a.acquire(), b.acquire()].every((r) => r.ok)).toBe(true);
    expect(b.acquire()).toEqual({ ok: false, reason: 'ConcurrentInvocationLimitExceeded' });
    expect(a.limit).toBe(2);
    a.release();
    expect(b.acquire()).toEqual({ ok: true });
  });

  it('refuses a reservation that leaves the others less than the minimum, as AWS does', () => {
    const account = new AccountConcurrency(10, 2);
    const fn = new FunctionConcurrency('f', account);
    expect(() => fn.setReserved(9)).toThrow(new ConcurrencyError("Specified ReservedConcurrentExecutions for function f decreases account's UnreservedConcurrentExecution below its minimum value of [2] (the account's limit is 10; 0 already reserved)"));
    expect(() => fn.setReserved(-1)).toThrow(ConcurrencyError);
    fn.setReserved(8);
    expect(fn.reservedConcurrency).toBe(8);
  });

  it('moves what runs between the reservation and the shared pool when the reservation changes', () => {
    const account = new AccountConcurrency(10, 1);
    const fn = new FunctionConcurrency('f', account);
    fn.acquire();
    fn.acquire();
    expect(account.unreservedAvailable).toBe(8);
    fn.setReserved(3);
    expect(account.unreservedAvailable).toBe(7);
    fn.setReserved(undefined);
    expect(account.unreservedAvailable).toBe(8);
    fn.release();
    fn.release();
    expect(account.unreservedAvailable).toBe(10);
  });

  it('serves those waiting for room in the order they came, before anyone new: a busy function does not starve the others', async () => {
    const account = new AccountConcurrency(2, 1);
    const busy = new FunctionConcurrency('thumbnail', account);
    const starved = new FunctionConcurrency('notify', account);
    expect([busy.acquire().ok, busy.acquire().ok]).toEqual([true, true]);
    expect(starved.acquire()).toEqual({ ok: false, reason: 'ConcurrentInvocationLimitExceeded' });
    const wait = starved.waitForRoom();
    expect(starved.hasRoom).toBe(false);

    busy.release();
    // The freed execution went to the one waiting, not to the next caller.
    expect(await wait.granted).toBe(true);
    expect(starved.executions).toBe(1);
    expect(busy.acquire().ok).toBe(false);
    starved.release();
    expect(busy.acquire().ok).toBe(true);
  });

  it('lets a reserved function wait for its own room, and a wait be given up', async () => {
    const account = new AccountConcurrency(10, 1);
    const fn = new FunctionConcurrency('f', account, 1);
    fn.acquire();
    const first = fn.waitForRoom();
    const second = fn.waitForRoom();
    second.cancel();
    expect(await second.granted).toBe(false);
    fn.release();
    expect(await first.granted).toBe(true);
    expect(fn.executions).toBe(1);
  });

  it('sends the waiting away when the reservation changes (they try again under the new one)', async () => {
    const account = new AccountConcurrency(10, 1);
    const fn = new FunctionConcurrency('f', account, 0);
    const wait = fn.waitForRoom();
    fn.setReserved(2);
    expect(await wait.granted).toBe(false);
    expect(fn.acquire().ok).toBe(true);
  });
});
