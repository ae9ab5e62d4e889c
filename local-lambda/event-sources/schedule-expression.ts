// Schedule expressions as EventBridge Scheduler writes them: `cron(minutes hours day-of-month month
// day-of-week year)` in a time zone, or `rate(5 minutes)`. Cron fields are parsed and stepped by
// croner (a well-kept library: L, W, #, ranges, steps, Quartz weekday numbers, time zones with
// their DST changes); this module only maps AWS's form onto it and checks AWS's own rules.
import { Cron } from 'croner';

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

export interface Schedule {
  expression: string;
  /** The first fire time of a schedule created at `now` (a rate schedule fires at once). */
  first(now: Date): Date;
  /** The first fire time strictly after `after`. */
  next(after: Date): Date;
}

const FIELDS = ['minutes', 'hours', 'day-of-month', 'month', 'day-of-week', 'year'] as const;
/** AWS's range of each field, for the numbers written in it (names such as JAN or MON are croner's to check). */
const RANGES: Record<(typeof FIELDS)[number], [number, number]> = {
  minutes: [0, 59],
  hours: [0, 23],
  'day-of-month': [1, 31],
  month: [1, 12],
  'day-of-week': [1, 7],
  year: [1970, 2199],
};
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** AWS's rules croner does not hold: six fields, `?` in exactly one day field, AWS's ranges. */
function checkAwsCron(fields: string[], expression: string): void {
  if (fields.length !== 6) {
    throw new ScheduleError(`${expression}: a cron expression has 6 fields (${FIELDS.join(' ')}), this one has ${fields.length}`);
  }
  const [, , dom, , dow] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw new ScheduleError(`${expression}: exactly one of day-of-month (${dom}) and day-of-week (${dow}) must be ?`);
  }
  for (const [i, field] of fields.entries()) {
    const name = FIELDS[i]!;
    const [min, max] = RANGES[name];
    for (const part of field.split(',')) {
      const step = part.split('/')[1];
      if (step !== undefined && !/^[1-9]\d*$/.test(step)) throw new ScheduleError(`${expression}: ${name} "${part}" steps by ${step || 'nothing'}; a step is a whole number from 1`);
      const nth = part.split('#')[1];
      if (nth !== undefined && !/^[1-5]$/.test(nth)) throw new ScheduleError(`${expression}: ${name} "${part}" asks for weekday number ${nth} of the month; it is 1-5`);
      // In a/b only a counts (b is a step); in d#n only d (n is the nth weekday of the month).
      const values = part.split('/')[0]!.split('#')[0]!.split('-');
      for (const value of values.map((v) => v.replace(/[LW]$/, '')).filter((v) => /^\d+$/.test(v))) {
        const n = Number(value);
        if (n < min || n > max) throw new ScheduleError(`${expression}: ${name} ${n} is outside ${min}-${max}${name === 'day-of-week' ? ' (1 = Sunday)' : ''}`);
      }
    }
  }
}

/** AWS writes `0/15` for "from 0, every 15"; croner wants the range spelled out: `0-59/15`. */
const withRanges = (fields: string[]): string[] =>
  fields.map((field, i) => field.split(',').map((part) => part.replace(/^(\d+)\/(\d+)$/, (_, start: string, step: string) => `${start}-${RANGES[FIELDS[i]!][1]}/${step}`)).join(','));

/** The local date and time (to the minute) of an instant in a time zone. */
const wallClock = (at: Date, timezone: string): string =>
  new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);

/**
 * AWS's rules at DST changes, which croner does not follow: a local time that does not exist (the
 * clock jumps over it) is skipped, and one that happens twice (the clock goes back) fires once.
 */
function awsOccurrence(job: Cron, candidate: Date, timezone: string): boolean {
  if (!job.match(candidate)) return false; // croner moved a skipped local time past the jump
  const local = wallClock(candidate, timezone);
  // A repeat: the same wall time happened up to 3 hours earlier (DST moves clocks by at most 2).
  for (let minutes = 30; minutes <= 180; minutes += 30) {
    if (wallClock(new Date(candidate.getTime() - minutes * 60_000), timezone) === local) return false;
  }
  return true;
}

/** Parses an expression, naming the field or unit that is wrong. */
export function parseSchedule(expression: string, timezone = 'UTC'): Schedule {
  const rate = RATE.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2]!.replace(/s$/, '') as keyof typeof UNIT_MS;
    if (n < 1) throw new ScheduleError(`${expression}: the rate must be at least 1`);
    if ((n === 1) !== !rate[2]!.endsWith('s')) throw new ScheduleError(`${expression}: write rate(1 ${unit}) for one and rate(${n === 1 ? 5 : n} ${unit}s) for more`);
    const period = n * UNIT_MS[unit];
    // Without a StartDate, Scheduler starts a rate schedule at once, then every period (DST aside: a day is 24 hours).
    return { expression, first: (now) => now, next: (after) => new Date(after.getTime() + period) };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) throw new ScheduleError(`${expression}: a schedule is cron(minutes hours day-of-month month day-of-week year) or rate(<n> <minutes|hours|days>)`);
  const fields = cron[1]!.trim().split(/\s+/);
  checkAwsCron(fields, expression);
  let job: Cron;
  try {
    // croner takes a seconds field first; weekdays numbered as AWS (Quartz) numbers them.
    job = new Cron(`0 ${withRanges(fields).join(' ')}`, { timezone, alternativeWeekdays: true, paused: true });
  } catch (error) {
    const message = (error as Error).message
      .replace(/^CronPattern: /, '')
      // croner counts its fields from 0, seconds first.
      .replace(/configuration entry (\d+) \((.*)\) contains illegal characters\.?/, (_, n: string, value: string) => `${FIELDS[Number(n) - 1] ?? `field ${n}`} "${value}" holds characters a cron field cannot`)
      .replace(/configuration entry (\d+)/, (_, n: string) => FIELDS[Number(n) - 1] ?? `field ${n}`);
    throw new ScheduleError(`${expression}: ${message}`);
  }
  const next = (after: Date): Date => {
    let candidate = job.nextRun(after);
    for (let guard = 0; candidate && !awsOccurrence(job, candidate, timezone) && guard < 1000; guard++) candidate = job.nextRun(candidate);
    if (!candidate) throw new ScheduleError(`${expression}: it never fires again after ${after.toISOString()}`);
    return candidate;
  };
  return { expression, first: next, next };
}

/** A time zone the platform knows (IANA name), or an error naming it. */
export function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new ScheduleError(`time zone "${timezone}" is not an IANA time zone name (e.g. UTC, Europe/Paris)`);
  }
}

export interface ScheduleRun {
  scheduleArn: string;
  /** The fire time this run is for. */
  time: Date;
  executionId: string;
  /** 1 for the first attempt of a fire time. */
  attempt: number;
}

/**
 * A schedule target's Input as EventBridge Scheduler sends it: its context attributes
 * (`<aws.scheduler.scheduled-time>` and the others) replaced by this run's values. Without an Input,
 * Scheduler sends an empty JSON object.
 */
export function scheduleInput(input: string | undefined, run: ScheduleRun): string {
  if (input === undefined) return '{}';
  const values: Record<string, string> = {
    'aws.scheduler.schedule-arn': run.scheduleArn,
    'aws.scheduler.scheduled-time': run.time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'aws.scheduler.execution-id': run.executionId,
    'aws.scheduler.attempt-number': String(run.attempt),
  };
  return input.replace(/<(aws\.scheduler\.[a-z-]+)>/g, (whole, name: string) => values[name] ?? whole);
}
