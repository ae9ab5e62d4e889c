// The event a schedule sends: EventBridge's scheduled-event shape, from a rule (`aws.events`) or
// from EventBridge Scheduler with this project's input (`aws.scheduler`, same fields). An empty
// event (`aws lambda invoke` without --payload, or `{}`) is a run by hand for "now". Anything else
// is an error saying what is expected.
import { InvalidEvent } from '#shared/errors';

export interface ScheduledEvent {
  source: string;
  time: Date;
}

export function parseScheduledEvent(event: unknown, now: () => Date = () => new Date()): ScheduledEvent {
  const e = (event ?? {}) as Record<string, unknown>;
  if (typeof e === 'object' && !Array.isArray(e) && Object.keys(e).length === 0) return { source: 'manual', time: now() };
  if (e['detail-type'] !== 'Scheduled Event' || typeof e.time !== 'string') {
    throw new InvalidEvent(
      `not a scheduled event: expected {"detail-type":"Scheduled Event","source":"aws.events","time":"<ISO 8601>"} (or {} for a report up to now), got ${JSON.stringify(event)?.slice(0, 200)}`,
    );
  }
  const time = new Date(e.time);
  if (Number.isNaN(time.getTime())) throw new InvalidEvent(`the scheduled event's time is not a date: ${JSON.stringify(e.time)}`);
  return { source: String(e.source ?? ''), time };
}
