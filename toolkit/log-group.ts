// Follows a CloudWatch Logs group as `aws logs tail --follow` does: FilterLogEvents from a start
// time, then again every second from the newest event seen (events of that same millisecond
// recognised by their id). One reader for `make logs`, `make cost` and the suites that read a group.
import { FilterLogEventsCommand, type CloudWatchLogsClient, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';

export interface LogGroupEvent {
  timestamp: number;
  logStreamName: string;
  message: string;
  eventId: string;
}

/** SINCE: `30m`, `2h`, `1d` ago, or an ISO time; nothing: everything in the log groups. */
export function sinceMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const ago = /^(\d+)([smhd])$/.exec(value);
  if (ago) return now - Number(ago[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd'];
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new Error(`SINCE=${value}: give a duration (30m, 2h, 1d) or an ISO time`);
  return at;
}

/** The events of a group from `startTime` on (all pages), optionally matching a filter pattern. */
export async function logGroupEvents(client: CloudWatchLogsClient, logGroupName: string, options: { startTime?: number; filterPattern?: string } = {}): Promise<LogGroupEvent[]> {
  const events: LogGroupEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new FilterLogEventsCommand({ logGroupName, ...options, ...(nextToken && { nextToken }) }));
    events.push(...(page.events ?? []).map(toEvent));
    // A token handed back unchanged would page forever.
    nextToken = page.nextToken === nextToken ? undefined : page.nextToken;
  } while (nextToken);
  return events.sort((a, b) => a.timestamp - b.timestamp);
}

const toEvent = (e: FilteredLogEvent): LogGroupEvent => ({ timestamp: e.timestamp ?? 0, logStreamName: e.logStreamName ?? '', message: (e.message ?? '').replace(/\n$/, ''), eventId: e.eventId ?? `${e.timestamp}/${e.logStreamName}/${e.message}` });

export function followLogGroup(client: CloudWatchLogsClient, logGroupName: string, onEvent: (event: LogGroupEvent) => void, options: { startTime: number; pollMs?: number; onError?: (error: unknown) => void }): { stop(): void } {
  let from = options.startTime;
  let seenAtFrom = new Set<string>();
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      try {
        for (const event of await logGroupEvents(client, logGroupName, { startTime: from })) {
          // Whatever the endpoint answers (LocalStack ignores a filter pattern), never a line twice.
          if (event.timestamp < from || (event.timestamp === from && seenAtFrom.has(event.eventId))) continue;
          if (event.timestamp > from) {
            from = event.timestamp;
            seenAtFrom = new Set();
          }
          seenAtFrom.add(event.eventId);
          onEvent(event);
        }
      } catch (error) {
        options.onError?.(error);
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
    }
  };
  void poll();
  return { stop: () => (stopped = true) };
}
