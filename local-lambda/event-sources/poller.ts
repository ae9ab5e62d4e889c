// The one poller abstraction of the local Lambda service, after LocalStack's event source
// mappings: each source kind (SQS, DynamoDB Streams, the queue of Event invocations) is a Poller
// with the same small surface; one worker loop (EsmWorker) owns its lifecycle, the backoff after
// an empty poll and after an error; every invocation is logged as one structured line.
import type { Logger } from 'pino';
import { fullJitterDelay, sleep as realSleep } from '#shared/backoff';
import type { InvocationResult } from '../function-runtime';

/**
 * How long one receive from an SQS queue waits for a message (a mapping without a batching window,
 * the Event-invocation queue): short, so that a stopping service or a held function is not kept
 * waiting; a message that arrives during the wait is returned at once.
 */
export const LONG_POLL_SECONDS = 1;

/** `work`: something was handed to the function; `idle`: nothing to do; `busy`: no idle container. */
export type PollOutcome = 'work' | 'idle' | 'busy';

export interface Poller {
  /** For logs: `sqs notify-events -> notify`. */
  readonly name: string;
  /** Looks for work once and starts at most what idle containers can run now. */
  poll(): Promise<PollOutcome>;
  /** Resolves when every invocation this poller started has been settled. */
  drain(): Promise<void>;
}

export interface EsmWorkerOptions {
  logger: Logger;
  /** Pause after an empty poll (the pollers long-poll or read a stream that may stay empty). */
  idleDelayMs?: number;
  /** Pause while every container is busy. */
  busyDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Runs one poller until stopped: the loop, its backoff, and nothing else. */
export class EsmWorker {
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    readonly poller: Poller,
    private readonly options: EsmWorkerOptions,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops polling, then waits for what the poller started. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.poller.drain();
  }

  private async run(): Promise<void> {
    const { logger, idleDelayMs = 200, busyDelayMs = 25, sleep = realSleep } = this.options;
    let errors = 0;
    while (this.running) {
      let outcome: PollOutcome;
      try {
        outcome = await this.poller.poll();
        if (errors > 0) logger.info({ poller: this.poller.name, after: errors }, 'event source mapping polls again');
        errors = 0;
      } catch (error) {
        errors++;
        // Loud on the first failure, then every 20th: LocalStack restarting must not flood the log.
        if (errors === 1 || errors % 20 === 0) logger.warn({ poller: this.poller.name, errors, err: (error as Error)?.message }, 'event source mapping poll failed; backing off');
        await sleep(fullJitterDelay(Math.min(errors, 6), { baseMs: 250, capMs: 10_000 }));
        continue;
      }
      if (outcome === 'idle') await sleep(idleDelayMs);
      else if (outcome === 'busy') await sleep(busyDelayMs);
    }
  }
}

export interface InvocationLogLine {
  function: string;
  source: 'sqs' | 'dynamodb-stream' | 'event' | 'request-response' | 'function-url';
  requestId: string;
  durationMs: number;
  outcome: string;
  batchSize?: number;
  failed?: number;
  [extra: string]: unknown;
}

/** The one structured line per invocation, whatever its source. */
export function logInvocation(logger: Logger, line: InvocationLogLine): void {
  logger.info(line, 'invocation');
}

export const outcomeOf = (result: InvocationResult): string => (result.ok ? 'success' : result.kind);

/**
 * The items a function reported as failed (ReportBatchItemFailures), or 'all' when its answer
 * cannot be trusted: a function error, a response that is not `{batchItemFailures:[...]}`-shaped,
 * or an identifier that is empty or not in the batch (AWS then fails the whole batch).
 */
export function failedItems(result: InvocationResult, identifiers: readonly string[], reportBatchItemFailures: boolean): Set<string> | 'all' {
  if (!result.ok) return 'all';
  if (!reportBatchItemFailures) return new Set();
  let response: unknown;
  try {
    response = JSON.parse(result.payload.toString('utf8') || 'null');
  } catch {
    return 'all';
  }
  if (response === null || typeof response !== 'object') return new Set();
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return 'all';
  const failed = new Set<string>();
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown })?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !identifiers.includes(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

/**
 * What Lambda reports of an event source in AWS/Lambda: IteratorAge (ms, a stream record's age as
 * its batch is sent), AsyncEventAge (ms, an Event invocation's age as it is sent),
 * DestinationDeliveryFailures and AsyncEventsDropped (counts).
 */
export type ReportMetric = (name: 'IteratorAge' | 'AsyncEventAge' | 'DestinationDeliveryFailures' | 'AsyncEventsDropped', value: number) => void;
