// Each function's log in CloudWatch Logs (LocalStack's), where Lambda writes it: the group the
// template names (LoggingConfig.LogGroup, else /aws/lambda/<name>), one stream per environment
// (`2026/11/29/[$LATEST]<hex>`). Lines are batched per stream and put every second within
// PutLogEvents' limits; a stream is created before its first batch. While LocalStack is away the
// lines are held, up to a bound, then the oldest are dropped and counted: the service's own output
// keeps every line whatever happens here.

import { PeriodicFlush } from './periodic-flush';

export interface LogEvent {
  timestamp: number;
  message: string;
}

/** What the shipper needs of CloudWatch Logs (cloudWatchLogsApi adapts the SDK's client). */
export interface LogsApi {
  /** Creates the stream; resolves when it exists (already existing is fine). Rejects with `GroupMissing` when its group does not exist. */
  createLogStream(group: string, stream: string): Promise<void>;
  /** Creates the group; already existing is fine. */
  createLogGroup(group: string): Promise<void>;
  /** Rejects with `StreamMissing` when the stream (or its group) does not exist. */
  putLogEvents(group: string, stream: string, events: LogEvent[]): Promise<void>;
}

export class StreamMissing extends Error {}
export class GroupMissing extends Error {}

// PutLogEvents' limits: 10,000 events and 1,048,576 bytes a call, each event counted as its UTF-8
// length + 26 bytes and at most 256 KB.
const MAX_EVENTS = 10_000;
const MAX_BATCH_BYTES = 1_048_576;
const EVENT_OVERHEAD = 26;
const MAX_EVENT_BYTES = 262_144 - EVENT_OVERHEAD;
const TRUNCATED = ' [truncated]';
const PUTS_AT_ONCE = 4;

/** A line cut to what one log event may hold (Lambda cuts longer lines the same way, at 256 KB). */
export function fitEvent(message: string): string {
  if (Buffer.byteLength(message) <= MAX_EVENT_BYTES) return message;
  let cut = Buffer.from(message).subarray(0, MAX_EVENT_BYTES - TRUNCATED.length).toString('utf8');
  // A multi-byte character split at the cut decodes to U+FFFD (3 bytes): drop it.
  while (Buffer.byteLength(cut) > MAX_EVENT_BYTES - TRUNCATED.length || cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut + TRUNCATED;
}

/** Events in PutLogEvents calls: in time order, each call within the limits. */
export function batchesOf(events: readonly LogEvent[]): LogEvent[][] {
  const sorted = [...events].sort((a, b) => a.timestamp - b.timestamp);
  const batches: LogEvent[][] = [];
  let batch: LogEvent[] = [];
  let bytes = 0;
  for (const event of sorted) {
    const size = Buffer.byteLength(event.message) + EVENT_OVERHEAD;
    if (batch.length > 0 && (batch.length >= MAX_EVENTS || bytes + size > MAX_BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(event);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

export interface LogShipperOptions {
  /** How often held lines are put. */
  flushMs?: number;
  /** Lines held at most (all streams); past it the oldest are dropped. */
  maxHeldEvents?: number;
  /** A failed delivery (the lines stay held for the next flush). */
  onError?: (error: unknown, group: string, stream: string) => void;
  now?: () => number;
}

export interface LogShipperStats {
  shipped: number;
  held: number;
  dropped: number;
}

export class LogShipper extends PeriodicFlush {
  private readonly held = new Map<string, { group: string; stream: string; events: LogEvent[] }>();
  private readonly created = new Set<string>();
  private heldCount = 0;
  private shipped = 0;
  private dropped = 0;
  private readonly maxHeld: number;
  private readonly now: () => number;

  constructor(
    private readonly api: LogsApi,
    private readonly options: LogShipperOptions = {},
  ) {
    super(options.flushMs ?? 1_000);
    this.maxHeld = options.maxHeldEvents ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  add(group: string, stream: string, message: string, timestamp = this.now()): void {
    const key = `${group}\n${stream}`;
    let entry = this.held.get(key);
    if (!entry) this.held.set(key, (entry = { group, stream, events: [] }));
    entry.events.push({ timestamp, message: fitEvent(message) });
    this.heldCount++;
    while (this.heldCount > this.maxHeld) this.dropOldest();
  }

  get stats(): LogShipperStats {
    return { shipped: this.shipped, held: this.heldCount, dropped: this.dropped };
  }

  protected async flushOnce(): Promise<void> {
    const entries = [...this.held.values()].filter((e) => e.events.length > 0);
    // A few streams at a time: a burst of environments must not become a burst of calls to LocalStack.
    const worker = async () => {
      for (let entry = entries.shift(); entry; entry = entries.shift()) await this.ship(entry);
    };
    await Promise.all(Array.from({ length: Math.min(PUTS_AT_ONCE, entries.length) }, worker));
    // Streams of environments that are gone: nothing held, nothing to keep.
    for (const [key, entry] of this.held) if (entry.events.length === 0) this.held.delete(key);
  }

  private async ship(entry: { group: string; stream: string; events: LogEvent[] }): Promise<void> {
    const { group, stream } = entry;
    const taken = entry.events.splice(0);
    this.heldCount -= taken.length;
    const batches = batchesOf(taken);
    for (const [i, batch] of batches.entries()) {
      try {
        await this.put(group, stream, batch);
        this.shipped += batch.length;
      } catch (error) {
        // Kept for the next flush, ahead of what came meanwhile (time order is the API's rule).
        const rest = batches.slice(i).flat();
        entry.events.unshift(...rest);
        this.heldCount += rest.length;
        while (this.heldCount > this.maxHeld) this.dropOldest();
        this.options.onError?.(error, group, stream);
        return;
      }
    }
  }

  private async put(group: string, stream: string, events: LogEvent[]): Promise<void> {
    const key = `${group}\n${stream}`;
    if (!this.created.has(key)) await this.create(group, stream);
    try {
      await this.api.putLogEvents(group, stream, events);
    } catch (error) {
      if (!(error instanceof StreamMissing)) throw error;
      // Removed meanwhile (a group deleted and deployed again): create it and put once more.
      this.created.delete(key);
      await this.create(group, stream);
      await this.api.putLogEvents(group, stream, events);
    }
  }

  private async create(group: string, stream: string): Promise<void> {
    try {
      await this.api.createLogStream(group, stream);
    } catch (error) {
      if (!(error instanceof GroupMissing)) throw error;
      // Lambda creates a function's group when it is missing (the template normally declares it).
      await this.api.createLogGroup(group);
      await this.api.createLogStream(group, stream);
    }
    this.created.add(`${group}\n${stream}`);
  }

  private dropOldest(): void {
    let oldest: { events: LogEvent[] } | undefined;
    for (const entry of this.held.values()) {
      if (entry.events.length > 0 && (!oldest || entry.events[0]!.timestamp < oldest.events[0]!.timestamp)) oldest = entry;
    }
    if (!oldest) return;
    oldest.events.shift();
    this.heldCount--;
    this.dropped++;
  }
}
