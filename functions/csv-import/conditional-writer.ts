// The `if-newer` upsert mode: each row is a conditional PutItem that only lands when the table has
// no row for its key, or one whose version column is smaller. A redelivered event, a re-uploaded
// old file, or two rows of one key in any order can therefore never roll a row back. (BatchWriteItem
// takes no conditions, hence one call per row, a few in flight.)
import { fullJitterDelay, sleep as realSleep } from '#shared/backoff';
import { isTransientAwsError } from '#shared/errors';
import type { RowWriter } from './batch-writer';
import type { Item } from './row-schema';

/** Writes one row unless the stored version is the same or newer. */
export type ConditionalPut = (item: Item) => Promise<'written' | 'older'>;

export interface ConditionalWriterOptions {
  maxInFlight?: number;
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export class ConditionalWriter implements RowWriter {
  written = 0;
  skipped = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly put: ConditionalPut,
    private readonly options: ConditionalWriterOptions = {},
  ) {}

  async add(item: Item): Promise<void> {
    this.throwIfFailed();
    const write: Promise<void> = this.putWithRetry(item).then(
      (outcome) => {
        if (outcome === 'written') this.written++;
        else this.skipped++;
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    this.inFlight.add(write);
    void write.finally(() => this.inFlight.delete(write));
    while (this.inFlight.size >= (this.options.maxInFlight ?? 8)) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    this.throwIfFailed();
  }

  private async putWithRetry(item: Item): Promise<'written' | 'older'> {
    const sleep = this.options.sleep ?? realSleep;
    const maxAttempts = this.options.maxAttempts ?? 8;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.put(item);
      } catch (error) {
        if (!isTransientAwsError(error) || attempt >= maxAttempts) throw error;
        await sleep(fullJitterDelay(attempt, { baseMs: 50, capMs: 5_000, random: this.options.random }));
      }
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
