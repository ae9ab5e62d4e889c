// The lines Lambda itself writes to a function's log stream, as it writes them: INIT_REPORT when an
// init fails or times out, START, END and REPORT for every invocation (tab-separated fields, Init
// Duration on the first invocation of an environment only, Billed Duration rounded up to the
// millisecond). Pure: formatting only; where the lines go is the service's business.

export interface ReportFields {
  requestId: string;
  durationMs: number;
  memorySizeMb: number;
  /** The environment's peak memory so far (its cgroup); undefined when it could not be read. */
  maxMemoryUsedMb?: number;
  /** Set on the first invocation an environment runs after a normal init. */
  initDurationMs?: number;
  /** Absent for a success; `timeout` or `error` (with the error type) otherwise. */
  status?: { kind: 'timeout' } | { kind: 'error'; errorType: string };
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

/** Lambda bills duration rounded up to the next millisecond (since December 2020). */
export const billedDurationMs = (durationMs: number, initDurationMs = 0): number => Math.max(1, Math.ceil(durationMs + initDurationMs));

export const startLine = (requestId: string): string => `START RequestId: ${requestId} Version: $LATEST`;

export const endLine = (requestId: string): string => `END RequestId: ${requestId}`;

/**
 * `REPORT RequestId: … Duration: … Billed Duration: … Memory Size: … Max Memory Used: … [Init Duration: …] [Status: …]`.
 * Init has been billed for every on-demand function since August 2025: Billed Duration includes it.
 */
export function reportLine(fields: ReportFields): string {
  const parts = [
    `REPORT RequestId: ${fields.requestId}`,
    `Duration: ${ms(fields.durationMs)}`,
    `Billed Duration: ${billedDurationMs(fields.durationMs, fields.initDurationMs)} ms`,
    `Memory Size: ${fields.memorySizeMb} MB`,
    `Max Memory Used: ${fields.maxMemoryUsedMb === undefined ? '-' : Math.ceil(fields.maxMemoryUsedMb)} MB`,
  ];
  if (fields.initDurationMs !== undefined) parts.push(`Init Duration: ${ms(fields.initDurationMs)}`);
  if (fields.status?.kind === 'timeout') parts.push('Status: timeout');
  if (fields.status?.kind === 'error') parts.push('Status: error', `Error Type: ${fields.status.errorType}`);
  return parts.join('\t');
}

/** Written when an init does not end well: `Phase: init` in the 10 s init phase, `Phase: invoke` when retried inside an invocation. */
export function initReportLine(fields: { durationMs: number; phase: 'init' | 'invoke'; status: 'timeout' } | { durationMs: number; phase: 'init' | 'invoke'; status: 'error'; errorType: string }): string {
  const parts = [`INIT_REPORT Init Duration: ${ms(fields.durationMs)}`, `Phase: ${fields.phase}`, `Status: ${fields.status}`];
  if (fields.status === 'error') parts.push(`Error Type: ${fields.errorType}`);
  return parts.join('\t');
}
