// Schedules, as EventBridge Scheduler runs them against a Lambda function: at each fire time of
// the expression (in its time zone), the scheduled event is handed to the function as an Event
// invocation (its queue, async-poller.ts: the function's own retries and on-failure destination
// apply from there). The schedule's retry policy covers the hand-over itself; what cannot be handed
// over within MaximumRetryAttempts / MaximumEventAgeInSeconds goes to the schedule's DLQ with
// Scheduler's attributes. The last fire time is stored (checkpoints.ts): a restart neither fires
// a time twice nor forgets one it missed while down, if that one is still young enough.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { SchedulePlan } from '../template/plan';
import type { CheckpointStore } from './checkpoints';
import { scheduleDeadLetter, type SendRecord } from './failure-records';
import type { PollOutcome, Poller } from './poller';
import { parseSchedule, scheduleInput, type Schedule } from './schedule-expression';

export interface SchedulePollerOptions {
  schedule: SchedulePlan;
  targetArn: string;
  /** Hands the event over as an Event invocation; resolves once it is stored. */
  deliver: (event: Buffer) => Promise<void>;
  /** Sends to the schedule's DLQ; throws when SQS does. */
  sendRecord: SendRecord;
  checkpoints: CheckpointStore;
  logger: Logger;
  /** The clock (epoch ms): tests move it instead of waiting for 06:00. */
  now?: () => number;
}

/** Fire times walked through at most, looking for the latest missed one after a long stop. */
const MAX_MISSED_STEPS = 100_000;

export class SchedulePoller implements Poller {
  readonly name: string;
  private readonly expression: Schedule;
  private next: Date | undefined;
  /** The fire time being handed over, and the attempts so far. */
  private pending: { time: Date; attempts: number; executionId: string } | undefined;

  constructor(private readonly options: SchedulePollerOptions) {
    const { schedule } = options;
    this.name = `schedule ${schedule.expression} ${schedule.timezone} -> ${schedule.function}`;
    this.expression = parseSchedule(schedule.expression, schedule.timezone);
  }

  private get checkpointKey(): string {
    return `schedule:${this.options.schedule.name}`;
  }

  /** The next fire time to act on: after the stored one, or the first of a new schedule. */
  private async start(now: Date): Promise<Date> {
    const stored = await this.options.checkpoints.get(this.checkpointKey, this.options.schedule.expression);
    if (!stored?.lastFiredAt) return this.expression.first(now);
    let due = this.expression.next(new Date(stored.lastFiredAt));
    let latestMissed: Date | undefined;
    for (let steps = 0; due <= now && steps < MAX_MISSED_STEPS; steps++) {
      latestMissed = due;
      due = this.expression.next(due);
    }
    if (!latestMissed) return due;
    const ageSeconds = (now.getTime() - latestMissed.getTime()) / 1000;
    if (ageSeconds <= this.options.schedule.maximumEventAgeInSeconds) {
      this.options.logger.warn({ schedule: this.options.schedule.name, missed: latestMissed.toISOString() }, 'the service was down at a fire time; firing it late');
      return latestMissed;
    }
    this.options.logger.warn(
      { schedule: this.options.schedule.name, missed: latestMissed.toISOString(), next: due.toISOString() },
      'the service was down at a fire time older than MaximumEventAgeInSeconds; skipped, as Scheduler would drop it',
    );
    return due;
  }

  async poll(): Promise<PollOutcome> {
    const { schedule: plan } = this.options;
    if (!plan.enabled) return 'idle';
    const now = new Date((this.options.now ?? Date.now)());
    // StartDate: nothing fires before it; EndDate: nothing after it.
    const from = plan.startDate && new Date(plan.startDate) > now ? new Date(plan.startDate) : now;
    this.next ??= await this.start(from);
    if (now < this.next) return 'idle';
    if (plan.endDate && this.next > new Date(plan.endDate)) return 'idle';
    this.pending ??= { time: this.next, attempts: 0, executionId: randomUUID() };
    const { schedule, logger } = this.options;
    const pending = this.pending;
    pending.attempts++;
    const event = this.eventFor(pending);
    try {
      await this.options.deliver(event);
      logger.info({ schedule: schedule.name, function: schedule.function, time: pending.time.toISOString(), attempts: pending.attempts }, 'schedule fired');
    } catch (error) {
      const ageSeconds = (now.getTime() - pending.time.getTime()) / 1000;
      const exhausted = pending.attempts > schedule.maximumRetryAttempts ? 'MaximumRetryAttempts' : ageSeconds > schedule.maximumEventAgeInSeconds ? 'MaximumEventAgeInSeconds' : undefined;
      // Not given up yet: the worker backs off and this fire time is tried again.
      if (!exhausted) throw error;
      if (schedule.deadLetterArn) {
        await this.options.sendRecord(schedule.deadLetterArn, scheduleDeadLetter({ event, error, condition: exhausted, retries: pending.attempts - 1, scheduleArn: schedule.arn, targetArn: this.options.targetArn }));
        logger.error({ schedule: schedule.name, time: pending.time.toISOString(), condition: exhausted, destination: schedule.deadLetterArn }, 'schedule could not invoke its target; sent to its DLQ');
      } else {
        logger.error({ schedule: schedule.name, time: pending.time.toISOString(), condition: exhausted }, 'schedule could not invoke its target; dropped (it has no DLQ)');
      }
    }
    await this.options.checkpoints.put(this.checkpointKey, schedule.expression, { lastFiredAt: pending.time.toISOString() });
    this.pending = undefined;
    this.next = this.expression.next(pending.time);
    return 'work';
  }

  private eventFor(run: { time: Date; attempts: number; executionId: string }): Buffer {
    const { schedule } = this.options;
    return Buffer.from(scheduleInput(schedule.input, { scheduleArn: schedule.arn, time: run.time, executionId: run.executionId, attempt: run.attempts }));
  }

  async drain(): Promise<void> {
    // Nothing runs beyond poll(): the hand-over is awaited there.
  }
}
