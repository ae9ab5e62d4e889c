// Writes rows to DynamoDB in BatchWriteItem chunks of 25 (the API's limit), a few chunks in flight
// at once, retrying UnprocessedItems and throttling with exponential backoff and full jitter: the
// `put` upsert mode (the last row for a key wins).
import { fullJitterDelay, sleep as realSleep } from '#shared/backoff';
import { isTransientAwsError } from '#shared/errors';
import type { Item } from './row-schema';

/** One BatchWriteItem call: writes what it can and returns the items left unprocessed. */
export type WriteChunk = (items: Item[]) => Promise<Item[]>;

/** Where rows go: BatchWriter (put) or ConditionalWriter (if-newer). */
export interface RowWriter {
  /** Queues one row; resolves when the caller may send the next (backpressure). */
  add(item: Item): Promise<void>;
  /** Sends what is queued and waits for every write in flight. */
  flush(): Promise<void>;
  /** Rows stored. */
  readonly written: number;
  /** Rows not stored because the table holds a newer version (if-newer). */
  readonly skipped: number;
}

/** The identity of an item in its table: its key attributes. */
export type KeyOf = (item: Item) => string;

export interface BatchWriterOptions {
  keyOf: KeyOf;
  chunkSize?: number;
  maxInFlight?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export class BatchWriter implements RowWriter {
  private pending = new Map<string, Item>();
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  written = 0;
  readonly skipped = 0;
  private readonly chunkSize: number;
  private readonly maxInFlight: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly writeChunk: WriteChunk,
    private readonly options: BatchWriterOptions,
  ) {
    this.chunkSize = Math.min(options.chunkSize ?? 25, 25);
    this.maxInFlight = options.maxInFlight ?? 4;
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  async add(item: Item): Promise<void> {
    this.throwIfFailed();
    // BatchWriteItem rejects two requests for one key in a call: the later row wins.
    const key = this.options.keyOf(item);
    this.pending.delete(key);
    this.pending.set(key, item);
    if (this.pending.size >= this.chunkSize) await this.dispatch();
  }

  /** Sends what is queued and waits for every chunk in flight. */
  async flush(): Promise<void> {
    if (this.pending.size > 0) await this.dispatch();
    await Promise.allSettled(this.inFlight);
    this.throwIfFailed();
  }

  private async dispatch(): Promise<void> {
    const chunk = [...this.pending.values()];
    this.pending = new Map();
    const write: Promise<void> = this.writeWithRetry(chunk).then(
      () => {
        this.written += chunk.length;
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    this.inFlight.add(write);
    void write.finally(() => this.inFlight.delete(write));
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  private async writeWithRetry(chunk: Item[]): Promise<void> {
    const sleep = this.options.sleep ?? realSleep;
    const backoff = { baseMs: this.options.baseDelayMs ?? 50, capMs: this.options.maxDelayMs ?? 5_000, random: this.options.random };
    let remaining = chunk;
    for (let attempt = 1; ; attempt++) {
      try {
        remaining = await this.writeChunk(remaining);
        if (remaining.length === 0) return;
        if (attempt >= this.maxAttempts) {
          throw new Error(`BatchWriteItem left ${remaining.length} items unprocessed after ${attempt} attempts`);
        }
      } catch (error) {
        if (!isTransientAwsError(error) || attempt >= this.maxAttempts) throw error;
      }
      await sleep(fullJitterDelay(attempt, backoff));
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
