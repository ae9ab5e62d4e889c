// Every function's failed invocations, as its log shows them (Lambda's REPORT line with
// `Status: error` or `Status: timeout`, an INIT_REPORT with `Status: error`), reach a function as
// they are written: a CloudWatch Logs subscription filter on each function's log group but the
// destination's own (its failures would feed themselves).
import * as logs from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { Construct } from 'constructs';
import type { PipelineFunction } from './pipeline-function';

/** Lambda's own lines of a failed invocation or init (term pattern: any of the phrases). */
export const ERROR_LINES_PATTERN = '?"Status: error" ?"Status: timeout"';

export class ErrorLineSubscriptions extends Construct {
  constructor(scope: Construct, id: string, props: { functions: ReadonlyMap<string, PipelineFunction>; destination: PipelineFunction }) {
    super(scope, id);
    const destination = new LambdaDestination(props.destination.function);
    for (const [code, fn] of props.functions) {
      if (fn === props.destination) continue;
      const pascal = code.replace(/(^|-)(\w)/g, (_, _dash: string, c: string) => c.toUpperCase());
      new logs.SubscriptionFilter(this, pascal, { logGroup: fn.logGroup, destination, filterPattern: logs.FilterPattern.literal(ERROR_LINES_PATTERN) });
    }
  }
}
