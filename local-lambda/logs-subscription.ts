// CloudWatch Logs subscription filters with a Lambda destination, delivered by the service (LocalStack
// would hand them to its own Lambda, which does not run our functions): the log events of a group
// that match a filter's pattern are gathered per stream for a second, then sent to the function as
// an Event invocation carrying what AWS sends, `{"awslogs":{"data":<base64 of gzipped JSON>}}`
// with messageType DATA_MESSAGE, owner, logGroup, logStream, subscriptionFilters and logEvents.
// Pure but for the clock: the invocation is a callback.
import { gunzipSync, gzipSync } from 'node:zlib';
import { compileFilterPattern, type LogMatcher } from './filter-pattern';
import { PeriodicFlush } from './periodic-flush';
import type { SubscriptionPlan } from './template/plan';

export type { SubscriptionPlan };

export interface SubscribedEvent {
  id: string;
  timestamp: number;
  message: string;
}

export interface AwslogsPayload {
  messageType: 'DATA_MESSAGE';
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
  logEvents: SubscribedEvent[];
}

/** The event a destination function receives. */
export const awslogsEvent = (payload: AwslogsPayload): { awslogs: { data: string } } => ({ awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } });

/** What the destination function gets back out of it (as a handler would read it). */
export const readAwslogsEvent = (event: { awslogs: { data: string } }): AwslogsPayload => JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8')) as AwslogsPayload;

export interface SubscriptionDeliveryOptions {
  owner: string;
  /** Sends one payload to a function (an Event invocation); rejects when it could not be queued. */
  invoke: (fn: string, payload: Buffer) => Promise<void>;
  /** Largest payload of one invocation (Event: 1 MB). */
  maxPayloadBytes: number;
  onError?: (error: unknown, subscription: SubscriptionPlan) => void;
  now?: () => number;
}

interface Pending {
  subscription: SubscriptionPlan;
  logStream: string;
  events: SubscribedEvent[];
}

export class SubscriptionDelivery extends PeriodicFlush {
  private readonly filters: Array<{ plan: SubscriptionPlan; matches: LogMatcher }>;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;

  /** Throws FilterPatternError for a pattern it cannot read (the deploy says which). */
  constructor(
    subscriptions: readonly SubscriptionPlan[],
    private readonly options: SubscriptionDeliveryOptions,
  ) {
    // AWS delivers within seconds; the events of a second go together.
    super(1_000);
    this.filters = subscriptions.map((plan) => ({ plan, matches: compileFilterPattern(plan.filterPattern) }));
  }

  /** A log event of a group: kept for each subscription of the group whose pattern it matches. */
  add(logGroup: string, logStream: string, message: string, timestamp = (this.options.now ?? Date.now)()): void {
    for (const { plan, matches } of this.filters) {
      if (plan.logGroup !== logGroup || !matches(message)) continue;
      const key = `${plan.name}\n${logStream}`;
      let entry = this.pending.get(key);
      if (!entry) this.pending.set(key, (entry = { subscription: plan, logStream, events: [] }));
      // Event ids as CloudWatch's: unique, ordered within the stream.
      entry.events.push({ id: `${timestamp}${String(this.seq++).padStart(20, '0')}`.slice(0, 56), timestamp, message });
    }
  }

  /** Sends what is gathered: one invocation per subscription and stream, split to fit the payload limit. */
  protected async flushOnce(): Promise<void> {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      for (const events of this.chunks(entry)) {
        const payload = Buffer.from(JSON.stringify(awslogsEvent(this.payloadOf(entry, events))));
        try {
          await this.options.invoke(entry.subscription.function, payload);
        } catch (error) {
          this.options.onError?.(error, entry.subscription);
        }
      }
    }
  }

  private payloadOf(entry: Pending, events: SubscribedEvent[]): AwslogsPayload {
    return { messageType: 'DATA_MESSAGE', owner: this.options.owner, logGroup: entry.subscription.logGroup, logStream: entry.logStream, subscriptionFilters: [entry.subscription.name], logEvents: events };
  }

  /**
   * The events in runs whose payload fits. Sized before compression (base64 of gzip is at most 4/3
   * of it, plus a few bytes): never over the limit, sometimes a run shorter than it could be.
   */
  private chunks(entry: Pending): SubscribedEvent[][] {
    const budget = Math.floor((this.options.maxPayloadBytes - 1_024) * 0.75);
    const base = Buffer.byteLength(JSON.stringify(this.payloadOf(entry, [])));
    const out: SubscribedEvent[][] = [];
    let run: SubscribedEvent[] = [];
    let size = base;
    for (const event of entry.events) {
      const bytes = Buffer.byteLength(JSON.stringify(event)) + 1;
      if (run.length > 0 && size + bytes > budget) {
        out.push(run);
        run = [];
        size = base;
      }
      run.push(event);
      size += bytes;
    }
    if (run.length > 0) out.push(run);
    return out;
  }
}
