import type { SchedulePlan } from '../template/plan';
import { MemoryCheckpointStore } from './checkpoints';
import type { FailureRecord, ScheduleDeadLetter } from './failure-records';
import { SchedulePoller } from './schedule-poller';
import { silent } from './test-support';

const ARN = 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/report-schedule';
const DLQ = 'arn:aws:sqs:us-east-1:000000000000:report-dlq';
/** The input the stack's template gives the schedule: the scheduled-event shape with Scheduler's context attributes. */
const INPUT = JSON.stringify({ version: '0', id: '<aws.scheduler.execution-id>', 'detail-type': 'Scheduled Event', source: 'aws.scheduler', account: '000000000000', time: '<aws.scheduler.scheduled-time>', region: 'us-east-1', resources: ['<aws.scheduler.schedule-arn>'], detail: {} });
const daily: SchedulePlan = {
  logicalId: 'ReportSchedule',
  name: 'report-schedule',
  arn: ARN,
  function: 'report',
  expression: 'cron(0 6 * * ? *)',
  timezone: 'Europe/Paris',
  input: INPUT,
  maximumRetryAttempts: 2,
  maximumEventAgeInSeconds: 3600,
  deadLetterArn: DLQ,
  enabled: true,
};

/** A poller on a clock the test moves; what it hands over and dead-letters is kept. */
function setup(options: { schedule?: SchedulePlan; start: string; checkpoints?: MemoryCheckpointStore; deliver?: () => Promise<void> }) {
  let now = new Date(options.start).getTime();
  const delivered: Array<Record<string, any>> = [];
  const dead: Array<{ queue: string; record: FailureRecord }> = [];
  const checkpoints = options.checkpoints ?? new MemoryCheckpointStore();
  const poller = new SchedulePoller({
    schedule: options.schedule ?? daily,
    targetArn: 'arn:aws:lambda:us-east-1:000000000000:function:report',
    deliver: async (event) => {
      await options.deliver?.();
      delivered.push(JSON.parse(event.toString()));
    },
    sendRecord: async (queue, record) => void dead.push({ queue, record }),
    checkpoints,
    logger: silent,
    now: () => now,
  });
  return {
    poller,
    delivered,
    dead,
    checkpoints,
    at: (time: string) => (now = new Date(time).getTime()),
  };
}

describe('schedules in the local Lambda service', () => {
  it('fire cron(0 6 * * ? *) at 06:00 Paris time, not a minute before, and again the next day across the DST change', async () => {
    const s = setup({ start: '2026-03-28T04:59:00Z' });
    expect(await s.poller.poll()).toBe('idle'); // 05:59 in Paris (UTC+1)
    s.at('2026-03-28T04:59:59.999Z');
    expect(await s.poller.poll()).toBe('idle');
    s.at('2026-03-28T05:00:00.150Z');
    expect(await s.poller.poll()).toBe('work');
    expect(s.delivered.map((e) => e.time)).toEqual(['2026-03-28T05:00:00Z']);
    expect(await s.poller.poll()).toBe('idle'); // once
    // The clocks move forward that night: 06:00 is now 04:00Z.
    s.at('2026-03-29T03:59:59Z');
    expect(await s.poller.poll()).toBe('idle');
    s.at('2026-03-29T04:00:00Z');
    expect(await s.poller.poll()).toBe('work');
    expect(s.delivered.map((e) => e.time)).toEqual(['2026-03-28T05:00:00Z', '2026-03-29T04:00:00Z']);
    expect(s.delivered[1]).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'aws.scheduler', resources: ['arn:aws:scheduler:us-east-1:000000000000:schedule/default/report-schedule'] });
  });

  it('do not fire a time twice across a restart, and fire one missed while stopped if it is young enough', async () => {
    const checkpoints = new MemoryCheckpointStore();
    const first = setup({ start: '2026-11-24T05:00:00Z', schedule: { ...daily, timezone: 'UTC' }, checkpoints });
    await first.poller.poll();
    first.at('2026-11-24T06:00:01Z');
    expect(await first.poller.poll()).toBe('work');
    // Restarted a second later: 06:00 was fired already.
    const restarted = setup({ start: '2026-11-24T06:00:02Z', schedule: { ...daily, timezone: 'UTC' }, checkpoints });
    expect(await restarted.poller.poll()).toBe('idle');
    expect(restarted.delivered).toEqual([]);
    // Stopped over the next 06:00 and back at 06:30: within the hour of MaximumEventAgeInSeconds, fired late with its own time.
    const late = setup({ start: '2026-11-25T06:30:00Z', schedule: { ...daily, timezone: 'UTC' }, checkpoints });
    expect(await late.poller.poll()).toBe('work');
    expect(late.delivered.map((e) => e.time)).toEqual(['2026-11-25T06:00:00Z']);
    // Stopped for two days and back at noon: too old, skipped; the next is tomorrow 06:00.
    const stale = setup({ start: '2026-11-27T12:00:00Z', schedule: { ...daily, timezone: 'UTC' }, checkpoints });
    expect(await stale.poller.poll()).toBe('idle');
    stale.at('2026-11-28T06:00:00Z');
    expect(await stale.poller.poll()).toBe('work');
    expect(stale.delivered.map((e) => e.time)).toEqual(['2026-11-28T06:00:00Z']);
  });

  it('start a new rate schedule at once, as Scheduler does without a StartDate', async () => {
    const s = setup({ start: '2026-11-24T10:00:00Z', schedule: { ...daily, expression: 'rate(15 minutes)' } });
    expect(await s.poller.poll()).toBe('work');
    s.at('2026-11-24T10:14:59Z');
    expect(await s.poller.poll()).toBe('idle');
    s.at('2026-11-24T10:15:00Z');
    expect(await s.poller.poll()).toBe('work');
    expect(s.delivered.map((e) => e.time)).toEqual(['2026-11-24T10:00:00Z', '2026-11-24T10:15:00Z']);
  });

  it('retry a hand-over that fails, then send the event to the DLQ with Scheduler\'s attributes', async () => {
    const s = setup({
      start: '2026-11-24T06:00:00Z',
      schedule: { ...daily, timezone: 'UTC', expression: 'rate(1 day)' },
      deliver: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { name: 'Error' });
      },
    });
    // Attempts 1 and 2 fail and are thrown (the worker backs off and polls again); attempt 3, the
    // second retry, fails too and settles the fire time in the DLQ.
    for (let i = 0; i < 2; i++) await expect(s.poller.poll()).rejects.toThrow('ECONNREFUSED');
    expect(await s.poller.poll()).toBe('work');
    expect(s.delivered).toEqual([]);
    expect(s.dead).toHaveLength(1);
    const letter = s.dead[0]!.record as ScheduleDeadLetter;
    expect(s.dead[0]!.queue).toBe(DLQ);
    expect(JSON.parse(letter.body)).toMatchObject({ 'detail-type': 'Scheduled Event', time: '2026-11-24T06:00:00Z' });
    expect(letter.attributes).toMatchObject({
      ERROR_MESSAGE: 'connect ECONNREFUSED 127.0.0.1:4566',
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
      RETRY_ATTEMPTS: '2',
      TARGET_ARN: 'arn:aws:lambda:us-east-1:000000000000:function:report',
    });
    // The next day's fire time is unaffected.
    s.at('2026-11-25T06:00:00Z');
    await expect(s.poller.poll()).rejects.toThrow('ECONNREFUSED');
  });

  it('gives up on a hand-over older than MaximumEventAgeInSeconds', async () => {
    const s = setup({
      start: '2026-11-24T06:00:00Z',
      schedule: { ...daily, timezone: 'UTC', expression: 'rate(1 day)', maximumRetryAttempts: 100, maximumEventAgeInSeconds: 60 },
      deliver: async () => {
        throw new Error('down');
      },
    });
    await expect(s.poller.poll()).rejects.toThrow('down');
    s.at('2026-11-24T06:01:01Z');
    expect(await s.poller.poll()).toBe('work');
    expect((s.dead[0]!.record as ScheduleDeadLetter).attributes.EXHAUSTED_RETRY_CONDITION).toBe('MaximumEventAgeInSeconds');
  });

  it('fires nothing while DISABLED, and nothing before StartDate or after EndDate', async () => {
    const off = setup({ start: '2026-11-24T06:00:00Z', schedule: { ...daily, timezone: 'UTC', enabled: false } });
    expect(await off.poller.poll()).toBe('idle');
    const later = setup({ start: '2026-11-24T05:00:00Z', schedule: { ...daily, timezone: 'UTC', startDate: '2026-11-25T00:00:00Z', endDate: '2026-11-26T00:00:00Z' } });
    later.at('2026-11-24T06:00:00Z');
    expect(await later.poller.poll()).toBe('idle');
    later.at('2026-11-25T06:00:00Z');
    expect(await later.poller.poll()).toBe('work');
    later.at('2026-11-26T06:00:00Z');
    expect(await later.poller.poll()).toBe('idle');
    expect(later.delivered.map((e) => e.time)).toEqual(['2026-11-25T06:00:00Z']);
  });
});
