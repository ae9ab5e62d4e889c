// A function's log, as the local Lambda service writes it: Lambda's own lines (START, END, REPORT,
// INIT_REPORT) and its environments' output, one structured line each in the service's output
// (`"source":"function"`), since environments come and go with their containers. One reader for
// `make invoke`, the bench and the suites (`make logs` reads CloudWatch Logs: scripts/logs.ts).
import { execFileSync } from 'node:child_process';
import { COMPOSE_PROJECT } from './labels';

export interface FunctionLogLine {
  time: string;
  function: string;
  /** The environment's log stream (`2026/11/28/[$LATEST]<hex>`). */
  logStream: string;
  message: string;
}

/** A line of the service's output as a function's log line; undefined for the service's own lines. */
export function parseFunctionLine(line: string): FunctionLogLine | undefined {
  if (!line.includes('"source":"function"')) return undefined;
  try {
    const parsed = JSON.parse(line) as Partial<FunctionLogLine> & { source?: string };
    if (parsed.source !== 'function' || typeof parsed.function !== 'string') return undefined;
    return { time: parsed.time ?? '', function: parsed.function, logStream: parsed.logStream ?? '', message: parsed.message ?? '' };
  } catch {
    return undefined;
  }
}

/** The container of `make up`'s local Lambda service (compose labels it). */
export function serviceContainer(project = COMPOSE_PROJECT): string {
  const id = execFileSync('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`, '--filter', 'label=com.docker.compose.service=local-lambda'], { encoding: 'utf8' }).trim().split('\n')[0];
  if (!id) throw new Error('the local Lambda service is not running: make up first');
  return id;
}

/** The last `tail` lines of a function's log (from the service's output). */
export function functionLogLines(fn: string, tail = 5000): FunctionLogLine[] {
  const out = execFileSync('docker', ['logs', '--tail', String(tail), serviceContainer()], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
  return out.split('\n').flatMap((line) => {
    const parsed = parseFunctionLine(line);
    return parsed && parsed.function === fn ? [parsed] : [];
  });
}
