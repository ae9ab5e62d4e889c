// Every function's errors, as its log shows them, reach a function as they are written: the
// runtime's `ERROR` lines (an invocation's error, `Invoke Error {...}`; console.error), Lambda's
// REPORT with `Status: timeout` or `Status: error` (a crash) and INIT_REPORT with `Status: error`.
// A CloudWatch Logs subscription filter on each function's log group but the destination's own
// (its errors would feed themselves).
import * as logs from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { Construct } from 'constructs';
import type { PipelineFunction } from './pipeline-function';

/** The lines of a failed invocation or init (term pattern: any of them; terms are case-sensitive). */
export const ERROR_LINES_PATTERN = '?ERROR ?"Status: error" ?"Status: timeout"';

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
