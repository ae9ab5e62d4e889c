// Lambda's concurrency, locally: how many invocations of a function may run (or wait for the
// environment starting for them) at once. A function with reserved concurrency has exactly that
// many for itself; the others share what the account has left (its limit minus every reservation).
// An invocation that finds no room is throttled: a synchronous call answers 429 at once; an event
// source may wait for room (an SQS batch until its visibility timeout). Waiters are served in the
// order they came, before anyone new: with an account of a few dozen executions instead of AWS's
// 1,000, a function with a large backlog must not starve the others (on AWS the limit is rarely
// reached, locally it is every burst). Pure: no clock, no I/O.

export class ConcurrencyError extends Error {
  override name = 'ConcurrencyError';
}

/** Someone waiting for room: `grant` hands it one execution (already counted), `refuse` sends it away. */
interface Waiter {
  grant: () => void;
  refuse: () => void;
}

/** A FIFO of waiters with cancellation. */
class WaitLine {
  private readonly waiters: Waiter[] = [];

  get length(): number {
    return this.waiters.length;
  }

  /** Waits until granted (true) or cancelled (false); `onGrant` counts the execution first. */
  join(onGrant: () => void): { granted: Promise<boolean>; cancel: () => void } {
    let settle!: (granted: boolean) => void;
    const granted = new Promise<boolean>((resolve) => (settle = resolve));
    const waiter: Waiter = {
      grant: () => {
        onGrant();
        settle(true);
      },
      refuse: () => settle(false),
    };
    this.waiters.push(waiter);
    return {
      granted,
      cancel: () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          settle(false);
        }
      },
    };
  }

  /** Everyone waiting is sent away (false). */
  refuseAll(): void {
    for (const waiter of this.waiters.splice(0)) waiter.refuse();
  }

  /** Hands one execution to the longest waiter; false when nobody waits. */
  grantNext(): boolean {
    const next = this.waiters.shift();
    next?.grant();
    return next !== undefined;
  }
}

/** The account's concurrency: what every function without a reservation shares. */
export class AccountConcurrency {
  private readonly reservations = new Map<string, number>();
  private unreservedInUse = 0;
  private readonly line = new WaitLine();

  /**
   * @param limit the account's concurrent executions (AWS: 1,000 by default)
   * @param minimumUnreserved what reservations must leave to the others (AWS: 100)
   */
  constructor(
    readonly limit: number,
    readonly minimumUnreserved: number,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new ConcurrencyError(`the account's concurrency limit must be a whole number from 1, not ${limit}`);
  }

  /** Sets (or clears) a function's reservation; refused, as AWS refuses it, when too little would be left. */
  reserve(fn: string, reserved: number | undefined): void {
    const others = [...this.reservations].filter(([name]) => name !== fn).reduce((n, [, r]) => n + r, 0);
    if (reserved !== undefined && this.limit - others - reserved < this.minimumUnreserved) {
      throw new ConcurrencyError(
        `Specified ReservedConcurrentExecutions for function ${fn} decreases account's UnreservedConcurrentExecution below its minimum value of [${this.minimumUnreserved}] (the account's limit is ${this.limit}; ${others} already reserved)`,
      );
    }
    if (reserved === undefined) this.reservations.delete(fn);
    else this.reservations.set(fn, reserved);
  }

  /** What the functions without a reservation share. */
  get unreservedLimit(): number {
    return this.limit - [...this.reservations.values()].reduce((n, r) => n + r, 0);
  }

  /** Room for someone new: none while others wait. */
  get unreservedAvailable(): number {
    return this.line.length > 0 ? 0 : Math.max(0, this.unreservedLimit - this.unreservedInUse);
  }

  /** One execution of a function without a reservation; false when the shared pool is full (or others wait). */
  takeUnreserved(): boolean {
    if (this.unreservedAvailable === 0) return false;
    this.unreservedInUse++;
    return true;
  }

  /** Waits in line for one; `onGrant` runs when it is given (the pool already counts it). */
  waitUnreserved(onGrant: () => void): { granted: Promise<boolean>; cancel: () => void } {
    return this.line.join(() => {
      this.unreservedInUse++;
      onGrant();
    });
  }

  releaseUnreserved(count = 1): void {
    for (let i = 0; i < count; i++) {
      this.unreservedInUse = Math.max(0, this.unreservedInUse - 1);
      if (this.unreservedInUse < this.unreservedLimit) this.line.grantNext();
    }
  }

  /** Executions that move into the shared pool (a reservation removed while they run). */
  addUnreserved(count: number): void {
    this.unreservedInUse += count;
  }
}

/** Why an invocation found no room, as Lambda names it in a throttle. */
export type ThrottleReason = 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded';

/** One function's share: its reservation, or the account's unreserved pool. */
export class FunctionConcurrency {
  private inUse = 0;
  private reserved: number | undefined;
  /** Waiting for room in the reservation (a reserved function). */
  private readonly line = new WaitLine();
  private readonly accountWaits = new Set<() => void>();
  /** Invocations refused for want of concurrency, since the start. */
  throttles = 0;

  constructor(
    readonly name: string,
    private readonly account: AccountConcurrency,
    reserved?: number,
  ) {
    this.setReserved(reserved);
  }

  get reservedConcurrency(): number | undefined {
    return this.reserved;
  }

  /** PutFunctionConcurrency / DeleteFunctionConcurrency; throws ConcurrencyError as AWS refuses. */
  setReserved(reserved: number | undefined): void {
    if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 0)) throw new ConcurrencyError('ReservedConcurrentExecutions must be a whole number from 0');
    this.account.reserve(this.name, reserved);
    // Who waits for the old kind of room stops waiting (and tries again).
    for (const cancel of [...this.accountWaits]) cancel();
    this.line.refuseAll();
    // What runs now moves with the function between its reservation and the shared pool.
    if (this.reserved === undefined && reserved !== undefined) this.account.releaseUnreserved(this.inUse);
    if (this.reserved !== undefined && reserved === undefined) this.account.addUnreserved(this.inUse);
    this.reserved = reserved;
  }

  /** Executions of this function now (running, or waiting for the environment that will run them). */
  get executions(): number {
    return this.inUse;
  }

  /** The most it may have at once now. */
  get limit(): number {
    return this.reserved ?? this.inUse + this.account.unreservedAvailable;
  }

  /** Room for one more right now, nobody waiting before it. */
  get hasRoom(): boolean {
    if (this.reserved !== undefined) return this.line.length === 0 && this.inUse < this.reserved;
    return this.account.unreservedAvailable > 0;
  }

  /** Room for one more execution, taken; or the reason there is none (counted as a throttle). */
  acquire(): { ok: true } | { ok: false; reason: ThrottleReason } {
    if (this.reserved !== undefined) {
      if (!this.hasRoom) {
        this.throttles++;
        return { ok: false, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' };
      }
      this.inUse++;
      return { ok: true };
    }
    if (!this.account.takeUnreserved()) {
      this.throttles++;
      return { ok: false, reason: 'ConcurrentInvocationLimitExceeded' };
    }
    this.inUse++;
    return { ok: true };
  }

  /**
   * Waits in line for room (after a throttle): resolves true once one execution is taken for the
   * caller, false when `cancel` is called first (the caller's deadline).
   */
  waitForRoom(): { granted: Promise<boolean>; cancel: () => void } {
    if (this.reserved !== undefined) return this.line.join(() => this.inUse++);
    const wait = this.account.waitUnreserved(() => {
      this.inUse++;
    });
    const cancel = () => {
      this.accountWaits.delete(cancel);
      wait.cancel();
    };
    this.accountWaits.add(cancel);
    void wait.granted.then(() => this.accountWaits.delete(cancel));
    return { granted: wait.granted, cancel };
  }

  /** One execution ended (or the room taken for it was not used): the longest waiter gets it. */
  release(): void {
    if (this.inUse === 0) return;
    this.inUse--;
    if (this.reserved === undefined) this.account.releaseUnreserved();
    else if (this.inUse < this.reserved) this.line.grantNext();
  }
}
