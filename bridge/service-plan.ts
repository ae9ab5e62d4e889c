// What the local Lambda service runs for a stack: each function's timeout and the event source
// mappings, Event-invocation settings, schedules and Function URLs it drives. bridge/main.ts runs exactly this; the parity
// test (infra/parity.test.ts) compares it with what CloudFormation would create.
import type { StackSpec } from '#stack/model';
import { topology, type AsyncInvokeSpec, type EventSourceMapping, type FunctionUrlConfig, type ScheduleSpec } from '#stack/topology';

export interface ServicePlan {
  functions: Array<{ name: string; timeoutSeconds: number }>;
  mappings: EventSourceMapping[];
  asyncInvokes: AsyncInvokeSpec[];
  schedules: ScheduleSpec[];
  urls: FunctionUrlConfig[];
}

export function servicePlan(stack: StackSpec): ServicePlan {
  const t = topology(stack);
  return { functions: stack.functions.map((f) => ({ name: f.name, timeoutSeconds: f.timeoutSeconds })), mappings: t.mappings, asyncInvokes: t.asyncInvokes, schedules: t.schedules, urls: t.urls };
}
