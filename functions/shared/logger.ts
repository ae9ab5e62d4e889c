// Structured JSON logs (pino), one line per event, carrying the function and the request id.
import pino, { type Logger } from 'pino';

export type { Logger };

const root = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { function: process.env.AWS_LAMBDA_FUNCTION_NAME },
  messageKey: 'message',
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});

export const logger: Logger = root;

/** A child logger for one invocation. */
export const invocationLogger = (context: { awsRequestId?: string } | undefined): Logger =>
  root.child({ requestId: context?.awsRequestId });

/** A logger that drops everything: for unit tests of the cores. */
export const silentLogger: Logger = pino({ level: 'silent' });
