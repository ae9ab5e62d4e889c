import { parseSchedule, scheduleInput, ScheduleError } from './schedule-expression';

const iso = (d: Date) => d.toISOString();
/** The next `count` fire times after `from`. */
function fires(expression: string, timezone: string, from: string, count: number): string[] {
  const schedule = parseSchedule(expression, timezone);
  const out: string[] = [];
  let at = new Date(from);
  for (let i = 0; i < count; i++) out.push(iso((at = schedule.next(at))));
  return out;
}

describe('schedule expressions', () => {
  it('fires cron(0 6 * * ? *) at 06:00 in its time zone, before and after a DST change', () => {
    // Europe/Paris moves from UTC+1 to UTC+2 on 2026-03-29: 06:00 is 05:00Z, then 04:00Z.
    expect(fires('cron(0 6 * * ? *)', 'Europe/Paris', '2026-03-27T12:00:00Z', 3)).toEqual(['2026-03-28T05:00:00.000Z', '2026-03-29T04:00:00.000Z', '2026-03-30T04:00:00.000Z']);
    // America/New_York goes back from UTC-4 to UTC-5 on 2026-11-01.
    expect(fires('cron(0 6 * * ? *)', 'America/New_York', '2026-10-31T00:00:00Z', 2)).toEqual(['2026-10-31T10:00:00.000Z', '2026-11-01T11:00:00.000Z']);
    expect(fires('cron(0 6 * * ? *)', 'UTC', '2026-11-24T06:00:00Z', 1)).toEqual(['2026-11-25T06:00:00.000Z']);
  });

  it('skips a local time the clock jumps over, and fires a repeated one once (as Scheduler does)', () => {
    // 02:30 does not exist in Paris on 2026-03-29.
    expect(fires('cron(30 2 * * ? *)', 'Europe/Paris', '2026-03-28T00:00:00Z', 2)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
    // 02:00-02:59 happens twice on 2026-10-25: hourly fires once at 02:00, then at 03:00 (02:00Z).
    expect(fires('cron(0 * * * ? *)', 'Europe/Paris', '2026-10-24T23:30:00Z', 3)).toEqual(['2026-10-25T00:00:00.000Z', '2026-10-25T02:00:00.000Z', '2026-10-25T03:00:00.000Z']);
  });

  it('reads AWS forms: weekday numbers from Sunday = 1, names, L, W, #, steps from a start', () => {
    expect(fires('cron(0 9 ? * 2 *)', 'UTC', '2026-11-24T00:00:00Z', 1)).toEqual(['2026-11-30T09:00:00.000Z']); // 2 = Monday
    expect(fires('cron(0 9 ? * MON-FRI *)', 'UTC', '2026-11-27T10:00:00Z', 1)).toEqual(['2026-11-30T09:00:00.000Z']);
    expect(fires('cron(0 0 L * ? *)', 'UTC', '2026-02-01T00:00:00Z', 1)).toEqual(['2026-02-28T00:00:00.000Z']);
    expect(fires('cron(0 0 ? * 6#3 *)', 'UTC', '2026-11-01T00:00:00Z', 1)).toEqual(['2026-11-20T00:00:00.000Z']); // third Friday
    expect(fires('cron(0 0 15W * ? *)', 'UTC', '2026-11-01T00:00:00Z', 1)).toEqual(['2026-11-16T00:00:00.000Z']); // the 15th is a Sunday
    expect(fires('cron(10/20 * * * ? *)', 'UTC', '2026-11-24T06:00:00Z', 3)).toEqual(['2026-11-24T06:10:00.000Z', '2026-11-24T06:30:00.000Z', '2026-11-24T06:50:00.000Z']);
  });

  it('steps rates by their period, and starts them at once', () => {
    const schedule = parseSchedule('rate(5 minutes)');
    const now = new Date('2026-11-24T06:01:02Z');
    expect(schedule.first(now)).toEqual(now);
    expect(iso(schedule.next(now))).toBe('2026-11-24T06:06:02.000Z');
    expect(iso(parseSchedule('rate(1 day)').next(now))).toBe('2026-11-25T06:01:02.000Z');
  });

  it.each([
    ['cron(61 6 * * ? *)', 'minutes 61 is outside 0-59'],
    ['cron(0 24 * * ? *)', 'hours 24 is outside 0-23'],
    ['cron(0 6 32 * ? *)', 'day-of-month 32 is outside 1-31'],
    ['cron(0 6 * 13 ? *)', 'month 13 is outside 1-12'],
    ['cron(0 6 ? * 0 *)', 'day-of-week 0 is outside 1-7 (1 = Sunday)'],
    ['cron(0 6 * * ? 1969)', 'year 1969 is outside 1970-2199'],
    ['cron(x 6 * * ? *)', 'minutes "x" holds characters a cron field cannot'],
    ['cron(0 6 ? * FUNDAY *)', 'day-of-week "FUNDAY" holds characters a cron field cannot'],
    ['cron(*/0 * * * ? *)', 'minutes "*/0" steps by 0'],
    ['cron(0 6 ? * 2#6 *)', 'day-of-week "2#6" asks for weekday number 6'],
    ['cron(0 6 * * * *)', 'exactly one of day-of-month (*) and day-of-week (*) must be ?'],
    ['cron(0 6 * * ?)', 'a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), this one has 5'],
    ['rate(1 minutes)', 'write rate(1 minute) for one'],
    ['rate(0 hours)', 'the rate must be at least 1'],
    ['rate(2 weeks)', 'a schedule is cron(minutes hours day-of-month month day-of-week year) or rate(<n> <minutes|hours|days>)'],
    ['0 6 * * *', 'a schedule is cron('],
  ])('rejects %s naming what is wrong', (expression, message) => {
    expect(() => parseSchedule(expression)).toThrow(ScheduleError);
    expect(() => parseSchedule(expression)).toThrow(`${expression}: ${message}`);
  });

  it("fills a target's Input with Scheduler's context attributes, the time to the second", () => {
    const input = '{"id":"<aws.scheduler.execution-id>","time":"<aws.scheduler.scheduled-time>","resources":["<aws.scheduler.schedule-arn>"],"n":"<aws.scheduler.attempt-number>","other":"<aws.scheduler.unknown>"}';
    const arn = 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/report';
    const filled = JSON.parse(scheduleInput(input, { scheduleArn: arn, time: new Date('2026-11-25T06:00:00.000Z'), executionId: 'id-1', attempt: 2 }));
    expect(filled).toEqual({ id: 'id-1', time: '2026-11-25T06:00:00Z', resources: [arn], n: '2', other: '<aws.scheduler.unknown>' });
    expect(scheduleInput(undefined, { scheduleArn: arn, time: new Date(), executionId: 'x', attempt: 1 })).toBe('{}');
  });
});
