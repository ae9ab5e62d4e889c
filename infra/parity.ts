// The two renderings of the stack reduced to one comparable shape: what the local run creates
// (bootstrap's plan, the containers compose runs, the service's mappings) and what the
// CloudFormation template creates. Resources are named by their names in the stack description;
// references become `kind:name:attribute`. infra/parity.test.ts fails on any difference.
import type { LocalPlan } from '#stack/local';
import { localArn, localOnlyEnvironment } from '#stack/local';
import { scheduledEvent } from '#stack/schedule';
import type { ServicePlan } from '../bridge/service-plan';
import { logicalId } from './pipelines-stack';

export interface QueueShape {
  visibilityTimeoutSeconds: number;
  retentionSeconds: number;
  deadLetterQueue?: string;
  maxReceiveCount?: number;
}

export interface MappingShape {
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  reportBatchItemFailures: boolean;
  startingPosition?: string;
  maximumRetryAttempts?: number;
  maximumRecordAgeInSeconds?: number;
  bisectBatchOnFunctionError?: boolean;
  onFailure?: string;
}

export interface Shape {
  buckets: string[];
  tables: Record<string, { keys: string[]; stream?: string; indexes: string[] }>;
  topics: string[];
  queues: Record<string, QueueShape>;
  subscriptions: string[];
  notifications: string[];
  functions: Record<string, { timeoutSeconds: number; memoryMb: number; environment: Record<string, string> }>;
  /** `<function> <- queue:<name>` or `<function> <- table:<name>` */
  mappings: Record<string, MappingShape>;
  asyncInvokes: Record<string, { maximumRetryAttempts: number; maximumEventAgeInSeconds: number; onFailure: string }>;
  schedules: Record<string, ScheduleShape>;
  /** Per function with a URL: its auth type and CORS, as AWS spells them. */
  urls: Record<string, { authType: string; cors?: Record<string, unknown> }>;
  /** Per bucket with CORS rules: the rules, as S3 spells them. */
  bucketCors: Record<string, unknown[]>;
}

export interface ScheduleShape {
  function: string;
  expression: string;
  timezone: string;
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
  deadLetterQueue: string;
  /** The event sent, with what differs per run (id, time, schedule ARN, account, region) as placeholders. */
  input: unknown;
}

/** Scheduler's context attributes, and the placeholders both sides' per-run values become. */
const PER_RUN = { id: '<aws.scheduler.execution-id>', time: '<aws.scheduler.scheduled-time>', arn: '<aws.scheduler.schedule-arn>', account: '<account>', region: '<region>' };

const sorted = <T>(xs: T[]): T[] => [...xs].sort();
const subscription = (s: { topic: string; queue: string; raw: boolean; filterPolicy?: unknown }) => JSON.stringify(s);
const notification = (n: { bucket: string; topic: string; event: string; prefix?: string }) => JSON.stringify(n);

/** What the local run creates and runs. */
export function localShape(plan: LocalPlan, service: ServicePlan, compose: { services: Record<string, any> }): Shape {
  const arnToName = (arn: string) => arn.slice(arn.lastIndexOf(':') + 1);
  const topicArns = new Map(plan.topics.map((t) => [localArn('sns', t.name), t.name]));
  const envValue = (value: string): string => {
    if (topicArns.has(value)) return `topic:${topicArns.get(value)}:arn`;
    if (plan.buckets.includes(value)) return `bucket:${value}:name`;
    if (plan.tables.some((t) => t.TableName === value)) return `table:${value}:name`;
    return value;
  };
  const queues: Record<string, QueueShape> = {};
  for (const q of plan.queues) {
    const a = q.attributes(localArn('sqs', q.name));
    const redrive = a.RedrivePolicy ? (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number }) : undefined;
    queues[q.name] = {
      visibilityTimeoutSeconds: Number(a.VisibilityTimeout),
      retentionSeconds: Number(a.MessageRetentionPeriod),
      ...(redrive && { deadLetterQueue: arnToName(redrive.deadLetterTargetArn), maxReceiveCount: Number(redrive.maxReceiveCount) }),
    };
  }
  const functions: Shape['functions'] = {};
  for (const fn of service.functions) {
    const container = compose.services[fn.name];
    const localOnly = new Set(Object.keys(localOnlyEnvironment({ url: service.urls.find((u) => u.function === fn.name) })));
    const env = Object.fromEntries(Object.entries(container.environment as Record<string, string>).filter(([k]) => !k.startsWith('AWS_') && !localOnly.has(k)).map(([k, v]) => [k, envValue(v)]));
    functions[fn.name] = { timeoutSeconds: fn.timeoutSeconds, memoryMb: Number.parseInt(String(container.mem_limit), 10), environment: env };
  }
  const mappings: Shape['mappings'] = {};
  for (const m of service.mappings) {
    if (m.kind === 'sqs') {
      mappings[`${m.function} <- queue:${m.queue}`] = { batchSize: m.batchSize, maximumBatchingWindowInSeconds: m.maximumBatchingWindowInSeconds, reportBatchItemFailures: m.reportBatchItemFailures };
    } else {
      mappings[`${m.function} <- table:${m.table}`] = {
        batchSize: m.batchSize,
        maximumBatchingWindowInSeconds: m.maximumBatchingWindowInSeconds,
        reportBatchItemFailures: m.reportBatchItemFailures,
        startingPosition: m.startingPosition,
        maximumRetryAttempts: m.maximumRetryAttempts,
        maximumRecordAgeInSeconds: m.maximumRecordAgeInSeconds,
        bisectBatchOnFunctionError: m.bisectBatchOnFunctionError,
        onFailure: m.onFailure,
      };
    }
  }
  return {
    buckets: sorted(plan.buckets),
    tables: Object.fromEntries(
      plan.tables.map((t) => [
        t.TableName!,
        {
          keys: (t.KeySchema ?? []).map((k) => `${k.KeyType}:${k.AttributeName}`),
          ...(t.StreamSpecification?.StreamViewType && { stream: t.StreamSpecification.StreamViewType }),
          indexes: sorted((t.GlobalSecondaryIndexes ?? []).map((i) => `${i.IndexName}(${(i.KeySchema ?? []).map((k) => k.AttributeName).join(',')})`)),
        },
      ]),
    ),
    topics: sorted(plan.topics.map((t) => t.name)),
    queues,
    subscriptions: sorted(
      plan.subscriptions.map((s) =>
        subscription({ topic: s.topic, queue: s.queue, raw: s.attributes.RawMessageDelivery === 'true', ...(s.attributes.FilterPolicy && { filterPolicy: JSON.parse(s.attributes.FilterPolicy) }) }),
      ),
    ),
    notifications: sorted(
      plan.notifications.flatMap((n) =>
        n.topicConfigurations.flatMap((c) =>
          (c.Events ?? []).map((event) => notification({ bucket: n.bucket, topic: arnToName(c.TopicArn!), event, ...(c.Filter?.Key?.FilterRules?.[0] && { prefix: c.Filter.Key.FilterRules[0].Value! }) })),
        ),
      ),
    ),
    functions,
    mappings,
    asyncInvokes: Object.fromEntries(service.asyncInvokes.map((a) => [a.function, { maximumRetryAttempts: a.maximumRetryAttempts, maximumEventAgeInSeconds: a.maximumEventAgeInSeconds, onFailure: a.onFailure }])),
    urls: Object.fromEntries(
      service.urls.map((u) => [
        u.function,
        {
          authType: u.authType,
          ...(u.cors && {
            cors: {
              AllowOrigins: u.cors.allowOrigins,
              AllowMethods: u.cors.allowMethods,
              ...(u.cors.allowHeaders && { AllowHeaders: u.cors.allowHeaders }),
              ...(u.cors.exposeHeaders && { ExposeHeaders: u.cors.exposeHeaders }),
              ...(u.cors.maxAge !== undefined && { MaxAge: u.cors.maxAge }),
              ...(u.cors.allowCredentials !== undefined && { AllowCredentials: u.cors.allowCredentials }),
            },
          }),
        },
      ]),
    ),
    bucketCors: Object.fromEntries(plan.cors.map((c) => [c.bucket, c.rules.map((r) => ({ ...r }))])),
    schedules: Object.fromEntries(
      service.schedules.map((sc) => [
        sc.name,
        {
          function: sc.function,
          expression: sc.expression,
          timezone: sc.timezone,
          maximumRetryAttempts: sc.maximumRetryAttempts,
          maximumEventAgeInSeconds: sc.maximumEventAgeInSeconds,
          deadLetterQueue: sc.onFailure,
          // The event the local service sends (bridge/esm/schedule-poller.ts builds it so).
          input: { ...scheduledEvent(new Date(0), PER_RUN.arn, PER_RUN.id, PER_RUN.account, PER_RUN.region), time: PER_RUN.time },
        },
      ]),
    ),
  };
}

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };

/** What the CloudFormation template creates, for the resources named in the stack description. */
export function templateShape(template: Template, names: { buckets: string[]; tables: string[]; topics: string[]; queues: string[]; functions: string[]; schedules: string[] }): Shape {
  const byLogicalId = new Map<string, string>();
  for (const [kind, list] of [['bucket', names.buckets], ['table', names.tables], ['topic', names.topics], ['queue', names.queues], ['function', names.functions], ['schedule', names.schedules]] as const) {
    for (const name of list) byLogicalId.set(logicalId[kind](name), `${kind}:${name}`);
  }
  const nameOf = (ref: unknown, kind: string): string => {
    const id = typeof ref === 'object' && ref !== null ? ((ref as { Ref?: string }).Ref ?? (ref as { 'Fn::GetAtt'?: [string] })['Fn::GetAtt']?.[0]) : undefined;
    const found = id ? byLogicalId.get(id) : undefined;
    if (!found?.startsWith(`${kind}:`)) throw new Error(`expected a reference to a ${kind} of the stack, found ${JSON.stringify(ref)}`);
    return found.slice(kind.length + 1);
  };
  const envValue = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const id = (value as { Ref?: string }).Ref;
    const found = id ? byLogicalId.get(id) : undefined;
    if (!found) return JSON.stringify(value);
    return found.startsWith('topic:') ? `${found}:arn` : `${found}:name`;
  };
  const resources = Object.entries(template.Resources).map(([id, r]) => ({ id, type: r.Type, p: r.Properties ?? {} }));
  const of = (type: string) => resources.filter((r) => r.type === type && (type.startsWith('AWS::Lambda::E') || type === 'AWS::SNS::Subscription' || byLogicalId.has(r.id)));
  const shape: Shape = { buckets: [], tables: {}, topics: [], queues: {}, subscriptions: [], notifications: [], functions: {}, mappings: {}, asyncInvokes: {}, schedules: {}, urls: {}, bucketCors: {} };

  for (const b of of('AWS::S3::Bucket')) {
    const bucket = byLogicalId.get(b.id)!.slice('bucket:'.length);
    shape.buckets.push(bucket);
    const rules = b.p.CorsConfiguration?.CorsRules as Array<Record<string, unknown>> | undefined;
    if (rules?.length) {
      shape.bucketCors[bucket] = rules.map((r) => ({
        AllowedOrigins: r.AllowedOrigins,
        AllowedMethods: r.AllowedMethods,
        ...(r.AllowedHeaders !== undefined && { AllowedHeaders: r.AllowedHeaders }),
        ...(r.ExposedHeaders !== undefined && { ExposeHeaders: r.ExposedHeaders }),
        ...(r.MaxAge !== undefined && { MaxAgeSeconds: r.MaxAge }),
      }));
    }
    for (const c of b.p.NotificationConfiguration?.TopicConfigurations ?? []) {
      const prefix = c.Filter?.S3Key?.Rules?.find((r: { Name: string }) => r.Name === 'prefix')?.Value;
      shape.notifications.push(notification({ bucket, topic: nameOf(c.Topic, 'topic'), event: c.Event, ...(prefix !== undefined && { prefix }) }));
    }
  }
  for (const t of of('AWS::DynamoDB::GlobalTable')) {
    shape.tables[byLogicalId.get(t.id)!.slice('table:'.length)] = {
      keys: (t.p.KeySchema ?? []).map((k: { KeyType: string; AttributeName: string }) => `${k.KeyType}:${k.AttributeName}`),
      ...(t.p.StreamSpecification?.StreamViewType && { stream: t.p.StreamSpecification.StreamViewType }),
      indexes: sorted((t.p.GlobalSecondaryIndexes ?? []).map((i: { IndexName: string; KeySchema: Array<{ AttributeName: string }> }) => `${i.IndexName}(${i.KeySchema.map((k) => k.AttributeName).join(',')})`)),
    };
  }
  for (const t of of('AWS::SNS::Topic')) shape.topics.push(byLogicalId.get(t.id)!.slice('topic:'.length));
  for (const q of of('AWS::SQS::Queue')) {
    const redrive = q.p.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number } | undefined;
    shape.queues[byLogicalId.get(q.id)!.slice('queue:'.length)] = {
      visibilityTimeoutSeconds: q.p.VisibilityTimeout ?? 30,
      retentionSeconds: q.p.MessageRetentionPeriod ?? 345_600,
      ...(redrive && { deadLetterQueue: nameOf(redrive.deadLetterTargetArn, 'queue'), maxReceiveCount: redrive.maxReceiveCount }),
    };
  }
  for (const s of of('AWS::SNS::Subscription')) {
    shape.subscriptions.push(
      subscription({ topic: nameOf(s.p.TopicArn, 'topic'), queue: nameOf(s.p.Endpoint, 'queue'), raw: s.p.RawMessageDelivery === true, ...(s.p.FilterPolicy && { filterPolicy: s.p.FilterPolicy }) }),
    );
    if (s.p.FilterPolicy && s.p.FilterPolicyScope !== 'MessageBody') throw new Error(`subscription ${s.id} filters on ${s.p.FilterPolicyScope ?? 'MessageAttributes'}, not MessageBody`);
  }
  for (const f of of('AWS::Lambda::Function')) {
    shape.functions[byLogicalId.get(f.id)!.slice('function:'.length)] = {
      timeoutSeconds: f.p.Timeout ?? 3,
      memoryMb: f.p.MemorySize ?? 128,
      environment: Object.fromEntries(Object.entries((f.p.Environment?.Variables ?? {}) as Record<string, unknown>).map(([k, v]) => [k, envValue(v)])),
    };
  }
  for (const m of of('AWS::Lambda::EventSourceMapping')) {
    const fn = nameOf(m.p.FunctionName, 'function');
    const source = m.p.EventSourceArn['Fn::GetAtt'][1] === 'StreamArn' ? `table:${nameOf(m.p.EventSourceArn, 'table')}` : `queue:${nameOf(m.p.EventSourceArn, 'queue')}`;
    const common = {
      batchSize: m.p.BatchSize,
      maximumBatchingWindowInSeconds: m.p.MaximumBatchingWindowInSeconds ?? 0,
      reportBatchItemFailures: (m.p.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
    };
    shape.mappings[`${fn} <- ${source}`] = source.startsWith('queue:')
      ? common
      : {
          ...common,
          startingPosition: m.p.StartingPosition,
          maximumRetryAttempts: m.p.MaximumRetryAttempts ?? -1,
          maximumRecordAgeInSeconds: m.p.MaximumRecordAgeInSeconds ?? -1,
          bisectBatchOnFunctionError: m.p.BisectBatchOnFunctionError ?? false,
          onFailure: nameOf(m.p.DestinationConfig?.OnFailure?.Destination, 'queue'),
        };
  }
  for (const c of of('AWS::Lambda::EventInvokeConfig')) {
    shape.asyncInvokes[nameOf(c.p.FunctionName, 'function')] = {
      maximumRetryAttempts: c.p.MaximumRetryAttempts,
      maximumEventAgeInSeconds: c.p.MaximumEventAgeInSeconds,
      onFailure: nameOf(c.p.DestinationConfig?.OnFailure?.Destination, 'queue'),
    };
  }
  // The input is a Fn::Join of JSON text and the account/region references.
  const inputOf = (input: unknown): unknown => {
    const parts = (input as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1] ?? [input];
    const text = parts.map((p) => (typeof p === 'string' ? p : (p as { Ref?: string }).Ref === 'AWS::AccountId' ? PER_RUN.account : (p as { Ref?: string }).Ref === 'AWS::Region' ? PER_RUN.region : JSON.stringify(p))).join('');
    return JSON.parse(text);
  };
  for (const u of resources.filter((r) => r.type === 'AWS::Lambda::Url')) {
    const cors = u.p.Cors as Record<string, unknown> | undefined;
    shape.urls[nameOf(u.p.TargetFunctionArn, 'function')] = { authType: u.p.AuthType, ...(cors && { cors }) };
  }
  for (const sc of of('AWS::Scheduler::Schedule')) {
    const retry = sc.p.Target?.RetryPolicy ?? {};
    shape.schedules[byLogicalId.get(sc.id)!.slice('schedule:'.length)] = {
      function: nameOf(sc.p.Target?.Arn, 'function'),
      expression: sc.p.ScheduleExpression,
      timezone: sc.p.ScheduleExpressionTimezone ?? 'UTC',
      // Scheduler's defaults when the policy leaves them out: 185 retries, 24 hours.
      maximumRetryAttempts: retry.MaximumRetryAttempts ?? 185,
      maximumEventAgeInSeconds: retry.MaximumEventAgeInSeconds ?? 86_400,
      deadLetterQueue: nameOf(sc.p.Target?.DeadLetterConfig?.Arn, 'queue'),
      input: inputOf(sc.p.Target?.Input),
    };
  }
  shape.buckets.sort();
  shape.topics.sort();
  shape.subscriptions.sort();
  shape.notifications.sort();
  return shape;
}
