// Error lines of the functions' logs, delivered by a CloudWatch Logs subscription filter
// (`{"awslogs":{"data":...}}`: base64 of gzipped JSON): one alert per delivery, naming the log
// group and stream and carrying the lines, on the same topic as the failure alerts.
import { gunzipSync } from 'node:zlib';
import { InvalidEvent } from '#shared/errors';
import type { Notification } from '#shared/publisher';

export interface LogsDelivery {
  messageType: string;
  logGroup: string;
  logStream: string;
  logEvents: Array<{ id: string; timestamp: number; message: string }>;
}

/** An event from a subscription filter, as Lambda receives it. */
export const isLogsEvent = (event: unknown): event is { awslogs: { data: string } } =>
  typeof (event as { awslogs?: { data?: unknown } } | null)?.awslogs?.data === 'string';

export function readLogsEvent(event: { awslogs: { data: string } }): LogsDelivery {
  let delivery: Partial<LogsDelivery>;
  try {
    delivery = JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8')) as Partial<LogsDelivery>;
  } catch (error) {
    throw new InvalidEvent(`awslogs.data is not base64 of gzipped JSON: ${(error as Error).message}`);
  }
  if (typeof delivery.logGroup !== 'string' || !Array.isArray(delivery.logEvents)) throw new InvalidEvent('awslogs.data has no logGroup or logEvents');
  return { messageType: String(delivery.messageType), logGroup: delivery.logGroup, logStream: String(delivery.logStream ?? ''), logEvents: delivery.logEvents };
}

const MAX_LINES = 20;
const MAX_LINE = 2_000;

/** The alert for a delivery of error lines; undefined for CloudWatch's CONTROL_MESSAGE (its check that the destination answers). */
export function errorLinesAlert(d: LogsDelivery): Notification | undefined {
  if (d.messageType !== 'DATA_MESSAGE' || d.logEvents.length === 0) return undefined;
  const n = d.logEvents.length;
  return {
    subject: `ERROR lines in ${d.logGroup}: ${n}`,
    message: JSON.stringify({
      logGroup: d.logGroup,
      logStream: d.logStream,
      lines: d.logEvents.slice(0, MAX_LINES).map((e) => ({ time: new Date(e.timestamp).toISOString(), message: e.message.length > MAX_LINE ? `${e.message.slice(0, MAX_LINE)}…` : e.message })),
      ...(n > MAX_LINES && { more: n - MAX_LINES }),
    }),
    attributes: { source: 'logs', logGroup: d.logGroup },
  };
}
