// The stack's alarms, the same on AWS and locally (LocalStack's CloudWatch evaluates them, its SQS
// publishes the queues' metrics, the local Lambda service publishes AWS/Lambda): a dead-letter
// queue holding a message (an event a function gave up on), and a function's errors over its
// threshold. Each change of state, into ALARM and back to OK, is published to the alarm topic.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { PipelineFunction } from './pipeline-function';

export interface FunctionAlarmsProps {
  topic: sns.ITopic;
  functions: ReadonlyMap<string, PipelineFunction>;
  /** Seconds per evaluation (AWS: 60 or more for these standard-resolution metrics; test stacks: 10). */
  periodSeconds: number;
  /** Errors in one period that raise a function's error alarm, by function folder. */
  errorThresholds: Record<string, number>;
}

export class FunctionAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: FunctionAlarmsProps) {
    super(scope, id);
    const period = Duration.seconds(props.periodSeconds);
    const action = new SnsAction(props.topic);
    const add = (alarm: cloudwatch.Alarm) => {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    };
    for (const [code, fn] of props.functions) {
      const pascal = code.replace(/(^|-)(\w)/g, (_, _dash: string, c: string) => c.toUpperCase());
      add(
        new cloudwatch.Alarm(this, `${pascal}DeadLetters`, {
          alarmDescription: `${code}: its dead-letter queue holds a message (an event it gave up on): its DeadLetterQueueUrl output`,
          metric: fn.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          // No datapoint (an empty queue reports 0 anyway) is not a failure.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      const threshold = props.errorThresholds[code];
      if (threshold === undefined) continue;
      add(
        new cloudwatch.Alarm(this, `${pascal}Errors`, {
          alarmDescription: `${code}: ${threshold} or more errors (or timeouts) in ${props.periodSeconds} s`,
          metric: fn.function.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
          threshold,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
  }
}
