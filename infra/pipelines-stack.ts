// The AWS rendering of the stack description: stack/stack.ts, through stack/topology.ts, as one
// CloudFormation stack. The local rendering (stack/local.ts) builds the same topology in LocalStack;
// infra/parity.test.ts fails on any difference between the two.
//   buckets, tables (streams, PITR), topics, queues + DLQs, subscriptions with filter policies,
//   one DockerImageFunction per function pinned to its pushed digest, its mappings, its async
//   failure destination, its EventBridge Scheduler schedules, least-privilege IAM from grants, a
//   log group with retention.
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, TimeZone, Validations, type CfnResource, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { isRef, type EnvValue, type FunctionSpec, type ResourceRef, type StackSpec } from '#stack/model';
import { scheduledEvent } from '#stack/schedule';
import { OBJECT_CREATED, topology, type KeyFilterPolicy } from '#stack/topology';
import type { PushedImage } from './images';

/** Stable logical ids, so the template reads like the stack description (and parity can map back). */
export const logicalId = {
  bucket: (name: string) => `Bucket${pascal(name)}`,
  table: (name: string) => `Table${pascal(name)}`,
  topic: (name: string) => `Topic${pascal(name)}`,
  queue: (name: string) => `Queue${pascal(name)}`,
  function: (name: string) => `Function${pascal(name)}`,
  schedule: (name: string) => `Schedule${pascal(name)}`,
};

export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

export interface PipelinesStackProps extends StackProps {
  spec: StackSpec;
  /** Image repository prefix, as `make push` names them: `<project>/<function>`. */
  project: string;
  /** The digest `make push` printed per function; a function without one gets a placeholder. */
  images: Record<string, PushedImage>;
  /** Days to keep function logs. */
  logRetention?: logs.RetentionDays;
}

/** Lambda's placeholder for a function not pushed yet: the template stays valid, deploy refuses it. */
export const PLACEHOLDER_DIGEST = `sha256:${'0'.repeat(64)}`;

const named = <T extends Construct>(construct: T, id: string): T => {
  (construct.node.defaultChild as CfnResource).overrideLogicalId(id);
  return construct;
};

function filterPolicy(policy: KeyFilterPolicy): Record<string, sns.FilterOrPolicy> {
  const prefixes = policy.Records.s3.object.key.flatMap((c) => ('prefix' in c ? [c.prefix] : []));
  const suffixes = policy.Records.s3.object.key.flatMap((c) => ('suffix' in c ? [c.suffix] : []));
  const key = sns.SubscriptionFilter.stringFilter({ ...(prefixes.length > 0 && { matchPrefixes: prefixes }), ...(suffixes.length > 0 && { matchSuffixes: suffixes }) });
  return { Records: sns.FilterOrPolicy.policy({ s3: sns.FilterOrPolicy.policy({ object: sns.FilterOrPolicy.policy({ key: sns.FilterOrPolicy.filter(key) }) }) }) };
}

export class PipelinesStack extends Stack {
  readonly functions = new Map<string, lambda.DockerImageFunction>();

  constructor(scope: Construct, id: string, props: PipelinesStackProps) {
    super(scope, id, props);
    // Server access logs delivered through a bucket policy, not the legacy LogDeliveryWrite ACL.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const t = topology(props.spec);

    // Server access logs of every bucket go here (cdk-nag AwsSolutions-S1).
    const accessLogs = named(
      new s3.Bucket(this, 'AccessLogs', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ expiration: Duration.days(90) }],
      }),
      'BucketAccessLogs',
    );
    // Bucket names are fixed by the stack (not generated) so that the topic policy can name a
    // bucket before it exists: S3 checks that it may publish when its notification is created.
    const bucketName = (name: string) => `${props.project}-${name}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
    const buckets = new Map(
      t.buckets.map((b) => [
        b.name,
        named(
          new s3.Bucket(this, logicalId.bucket(b.name), {
            bucketName: bucketName(b.name),
            blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
            encryption: s3.BucketEncryption.S3_MANAGED,
            enforceSSL: true,
            serverAccessLogsBucket: accessLogs,
            serverAccessLogsPrefix: `${b.name}/`,
            ...(b.cors?.length && {
              cors: b.cors.map((r) => ({
                allowedOrigins: r.allowedOrigins,
                allowedMethods: r.allowedMethods.map((m) => s3.HttpMethods[m]),
                ...(r.allowedHeaders && { allowedHeaders: r.allowedHeaders }),
                ...(r.exposedHeaders && { exposedHeaders: r.exposedHeaders }),
                ...(r.maxAgeSeconds !== undefined && { maxAge: r.maxAgeSeconds }),
              })),
            }),
          }),
          logicalId.bucket(b.name),
        ),
      ]),
    );

    const tables = new Map(
      t.tables.map((spec) => [
        spec.name,
        named(
          new dynamodb.TableV2(this, logicalId.table(spec.name), {
            partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
            ...(spec.sortKey && { sortKey: { name: spec.sortKey, type: dynamodb.AttributeType.STRING } }),
            billing: dynamodb.Billing.onDemand(),
            ...(spec.stream && { dynamoStream: dynamodb.StreamViewType[spec.stream] }),
            globalSecondaryIndexes: (spec.indexes ?? []).map((i) => ({
              indexName: i.name,
              partitionKey: { name: i.partitionKey, type: dynamodb.AttributeType.STRING },
              ...(i.sortKey && { sortKey: { name: i.sortKey, type: dynamodb.AttributeType.STRING } }),
            })),
            pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
            removalPolicy: RemovalPolicy.RETAIN,
          }),
          logicalId.table(spec.name),
        ),
      ]),
    );

    const topics = new Map(t.topics.map((spec) => [spec.name, named(new sns.Topic(this, logicalId.topic(spec.name), { enforceSSL: true }), logicalId.topic(spec.name))]));

    const queues = new Map<string, sqs.Queue>();
    // Dead-letter queues first: the queues that redrive into them refer to them.
    for (const spec of [...t.queues].sort((a, b) => Number(!!a.redrive) - Number(!!b.redrive))) {
      const queue = new sqs.Queue(this, logicalId.queue(spec.name), {
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        retentionPeriod: Duration.seconds(spec.retentionSeconds),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        ...(spec.redrive && { deadLetterQueue: { queue: queues.get(spec.redrive.deadLetterQueue)!, maxReceiveCount: spec.redrive.maxReceiveCount } }),
      });
      queues.set(spec.name, named(queue, logicalId.queue(spec.name)));
      if (!spec.redrive) {
        Validations.of(queue).acknowledge({
          id: 'AwsSolutions-SQS3',
          reason: spec.name.endsWith('-dlq')
            ? 'This queue is a dead-letter queue: the on-failure destination of its function (redrive target, stream failures, Event invocations).'
            : 'A topic inbox that nothing processes: people and tests read it; unread messages expire.',
        });
      }
    }

    for (const s of t.subscriptions) {
      topics.get(s.topic)!.addSubscription(
        new subscriptions.SqsSubscription(queues.get(s.queue)!, {
          rawMessageDelivery: s.rawMessageDelivery,
          ...(s.filterPolicy && { filterPolicyWithMessageBody: filterPolicy(s.filterPolicy) }),
        }),
      );
    }

    // S3 -> SNS without CDK's notification custom resource: the bucket's own configuration, after
    // the topic policy that lets exactly this bucket publish.
    for (const fanOut of t.fanOuts) {
      const bucket = buckets.get(fanOut.bucket)!;
      const topic = topics.get(fanOut.topic)!;
      const allowed = topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowBucketNotifications',
          principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: { ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:s3:::${bucketName(fanOut.bucket)}` }, StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
        }),
      );
      const cfnBucket = bucket.node.defaultChild as s3.CfnBucket;
      cfnBucket.notificationConfiguration = {
        topicConfigurations: (fanOut.prefixes ?? [undefined]).map((prefix) => ({
          event: OBJECT_CREATED,
          topic: topic.topicArn,
          ...(prefix !== undefined && { filter: { s3Key: { rules: [{ name: 'prefix', value: prefix }] } } }),
        })),
      };
      if (allowed.policyDependable) bucket.node.addDependency(allowed.policyDependable);
    }

    const repositories = new Map<string, ecr.IRepository>();
    for (const fn of t.functions) {
      const image = props.images[fn.name];
      const repositoryName = image?.repository ?? `${props.project}/${fn.name}`;
      const repository = repositories.get(repositoryName) ?? ecr.Repository.fromRepositoryName(this, `Repository${pascal(fn.name)}`, repositoryName);
      repositories.set(repositoryName, repository);
      const logGroup = new logs.LogGroup(this, `Logs${pascal(fn.name)}`, { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
      // A role of its own, with its log group instead of the managed AWSLambdaBasicExecutionRole.
      const role = new iam.Role(this, `Role${pascal(fn.name)}`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `Runs the ${fn.name} function` });
      logGroup.grantWrite(role);
      const resolve = (value: EnvValue): string => {
        if (!isRef(value)) return value;
        if (value.ref === 'bucket') return buckets.get(value.name)!.bucketName;
        if (value.ref === 'table') return tables.get(value.name)!.tableName;
        return topics.get(value.name)!.topicArn;
      };
      const handler = named(
        new lambda.DockerImageFunction(this, logicalId.function(fn.name), {
          description: fn.description,
          code: lambda.DockerImageCode.fromEcr(repository, { tagOrDigest: image?.digest ?? PLACEHOLDER_DIGEST }),
          architecture: lambda.Architecture.X86_64,
          timeout: Duration.seconds(fn.timeoutSeconds),
          memorySize: fn.memoryMb,
          environment: Object.fromEntries(Object.entries(fn.environment).map(([k, v]) => [k, resolve(v)])),
          role,
          logGroup,
        }),
        logicalId.function(fn.name),
      );
      this.functions.set(fn.name, handler);
      this.grant(fn, handler, buckets, tables, topics, new Set(props.spec.tables.filter((x) => x.indexes?.length).map((x) => x.name)));

      for (const m of t.mappings.filter((x) => x.function === fn.name)) {
        if (m.kind === 'sqs') {
          handler.addEventSource(
            new SqsEventSource(queues.get(m.queue)!, {
              batchSize: m.batchSize,
              maxBatchingWindow: Duration.seconds(m.maximumBatchingWindowInSeconds),
              reportBatchItemFailures: m.reportBatchItemFailures,
            }),
          );
        } else {
          handler.addEventSource(
            new DynamoEventSource(tables.get(m.table)!, {
              startingPosition: lambda.StartingPosition[m.startingPosition],
              batchSize: m.batchSize,
              maxBatchingWindow: Duration.seconds(m.maximumBatchingWindowInSeconds),
              retryAttempts: m.maximumRetryAttempts,
              ...(m.maximumRecordAgeInSeconds >= 0 && { maxRecordAge: Duration.seconds(m.maximumRecordAgeInSeconds) }),
              bisectBatchOnError: m.bisectBatchOnFunctionError,
              reportBatchItemFailures: m.reportBatchItemFailures,
              onFailure: new SqsDlq(queues.get(m.onFailure)!),
            }),
          );
        }
      }
      const asyncSpec = t.asyncInvokes.find((a) => a.function === fn.name)!;
      handler.configureAsyncInvoke({
        retryAttempts: asyncSpec.maximumRetryAttempts,
        maxEventAge: Duration.seconds(asyncSpec.maximumEventAgeInSeconds),
        onFailure: new destinations.SqsDestination(queues.get(asyncSpec.onFailure)!),
      });
      for (const sch of t.schedules.filter((x) => x.function === fn.name)) {
        // EventBridge Scheduler invokes the function asynchronously with the scheduled-event shape
        // the local Lambda service sends (stack/schedule.ts); its retry policy covers the invoke
        // itself, the function's own failures follow the async invoke configuration above.
        // Its own role, as each function has: Scheduler may invoke this function and write to its DLQ.
        const schedulerRole = new iam.Role(this, `Role${pascal(sch.name)}`, {
          assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
          description: `Lets EventBridge Scheduler invoke ${fn.name} (${sch.name})`,
        });
        Validations.of(schedulerRole).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${logicalId.function(fn.name)}.Arn>:*]`,
          reason: `The LambdaInvoke target's grant: ${fn.name} and its versions, no other function.`,
        });
        named(
          new scheduler.Schedule(this, logicalId.schedule(sch.name), {
            description: `${sch.expression} ${sch.timezone} -> ${fn.name}`,
            schedule: scheduler.ScheduleExpression.expression(sch.expression, TimeZone.of(sch.timezone)),
            target: new schedulerTargets.LambdaInvoke(handler, {
              role: schedulerRole,
              retryAttempts: sch.maximumRetryAttempts,
              maxEventAge: Duration.seconds(sch.maximumEventAgeInSeconds),
              deadLetterQueue: queues.get(sch.onFailure)!,
              // The one event shape, with Scheduler's context attributes where each run differs.
              input: scheduler.ScheduleTargetInput.fromObject({
                ...scheduledEvent(new Date(0), scheduler.ContextAttribute.scheduleArn, scheduler.ContextAttribute.executionId, Aws.ACCOUNT_ID, Aws.REGION),
                time: scheduler.ContextAttribute.scheduledTime,
              }),
            }),
          }),
          logicalId.schedule(sch.name),
        );
      }
      if (fn.url) {
        // AWS_IAM unless the description opted out explicitly (stack/model.ts refuses NONE alone).
        const url = handler.addFunctionUrl({
          authType: fn.url.authType === 'NONE' ? lambda.FunctionUrlAuthType.NONE : lambda.FunctionUrlAuthType.AWS_IAM,
          ...(fn.url.cors && {
            cors: {
              allowedOrigins: fn.url.cors.allowOrigins,
              allowedMethods: fn.url.cors.allowMethods.map((m) => (m === '*' ? lambda.HttpMethod.ALL : lambda.HttpMethod[m as keyof typeof lambda.HttpMethod])),
              ...(fn.url.cors.allowHeaders && { allowedHeaders: fn.url.cors.allowHeaders }),
              ...(fn.url.cors.exposeHeaders && { exposedHeaders: fn.url.cors.exposeHeaders }),
              ...(fn.url.cors.maxAge !== undefined && { maxAge: Duration.seconds(fn.url.cors.maxAge) }),
              ...(fn.url.cors.allowCredentials !== undefined && { allowCredentials: fn.url.cors.allowCredentials }),
            },
          }),
        });
        new CfnOutput(this, `${pascal(fn.name)}FunctionUrl`, { value: url.url, description: `${fn.name}'s Function URL (${fn.url.authType}); browsers: npx tsx bridge/signing-proxy.ts <this url>` });
      }
      new CfnOutput(this, `${pascal(fn.name)}FunctionName`, { value: handler.functionName, description: `${fn.name}: ${fn.description}` });
    }
    for (const [name, bucket] of buckets) new CfnOutput(this, `${pascal(name)}BucketName`, { value: bucket.bucketName });
    for (const [name, table] of tables) new CfnOutput(this, `${pascal(name)}TableName`, { value: table.tableName });
    for (const [name, topic] of topics) new CfnOutput(this, `${pascal(name)}TopicArn`, { value: topic.topicArn });

  }

  /** Exactly what the function's configuration names, nothing more: from CDK's grants. */
  private grant(
    fn: FunctionSpec,
    handler: lambda.IFunction,
    buckets: Map<string, s3.Bucket>,
    tables: Map<string, dynamodb.TableV2>,
    topics: Map<string, sns.Topic>,
    indexed: ReadonlySet<string>,
  ): void {
    const refs: ResourceRef[] = [...Object.values(fn.environment).filter(isRef), ...(fn.grants ?? [])];
    // The objects an S3 trigger announces are the function's to read.
    for (const t of fn.triggers) {
      if (t.type !== 's3') continue;
      for (const prefix of t.prefixes?.length ? t.prefixes : ['']) refs.push({ ref: 'bucket', name: t.bucket, attribute: 'name', access: 'read', keys: `${prefix}*` });
    }
    const acknowledge = (finding: string, reason: string) => Validations.of(handler.role!).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    for (const ref of refs) {
      if (ref.ref === 'bucket') {
        const bucket = buckets.get(ref.name)!;
        if (ref.access === 'read') bucket.grantRead(handler, ref.keys);
        else if (ref.access === 'write') bucket.grantPut(handler, ref.keys);
        else bucket.grantReadWrite(handler, ref.keys);
        // CDK's S3 grants name action families and the objects under a key prefix: acknowledged
        // one finding at a time, for exactly the grant made here.
        acknowledge(`Resource::<${logicalId.bucket(ref.name)}.Arn>/${ref.keys ?? '*'}`, `${fn.name} may touch the objects under ${ref.keys ?? '*'} of bucket ${ref.name}, no other.`);
        if (ref.access !== 'write') {
          for (const family of ['GetObject*', 'GetBucket*', 'List*']) acknowledge(`Action::s3:${family}`, `CDK's read grant on bucket ${ref.name} (its object and listing actions).`);
        }
        if (ref.access !== 'read') acknowledge('Action::s3:Abort*', `CDK's write grant on bucket ${ref.name} (aborting its own multipart uploads).`);
        if (ref.access === 'read-write') acknowledge('Action::s3:DeleteObject*', `CDK's read-write grant on bucket ${ref.name}.`);
      } else if (ref.ref === 'table') {
        const table = tables.get(ref.name)!;
        if (ref.access === 'read') table.grantReadData(handler);
        else if (ref.access === 'write') table.grantWriteData(handler);
        else table.grantReadWriteData(handler);
        if (indexed.has(ref.name)) acknowledge(`Resource::<${logicalId.table(ref.name)}.Arn>/index/*`, `CDK's grant on table ${ref.name} covers its own indexes (${fn.name} queries them by name).`);
      } else {
        topics.get(ref.name)!.grantPublish(handler);
      }
    }
  }
}
