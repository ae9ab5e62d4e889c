// What the local run does with every resource type and property of a template: LocalStack's
// CloudFormation creates it, or the local Lambda service runs it, or it is deliberately inert
// locally (each with its reason). Anything else is refused by name: nothing in the template is
// silently ignored. `unsupportedParts` is the one check; the service runs it before deploying and
// the unit tier runs it on the app's own templates.
//
// LocalStack 4.14's providers were read for this table (localstack-core 4.14.0, services/<service>/
// resource_providers/aws_*.py): LocalStack drops every property its provider does not read without
// a word (ConvertingInternalClientFactory drops keys the API does not know), so its silence proves
// nothing; this table is what the local run knows it does.
import { dependsOn, isPseudo, type CfnTemplate } from './template';

export type Owner = 'localstack' | 'local-lambda';

export interface TypeSupport {
  owner: Owner;
  /** Top-level properties the owner implements. */
  implemented: readonly string[];
  /** Properties with no effect locally, and why that is acceptable. */
  inert?: Readonly<Record<string, string>>;
  /** Nested checks: the problems of one resource's properties beyond their names. */
  check?: (properties: Record<string, any>, at: string) => string[];
  /**
   * Properties LocalStack creates but cannot change on an update (its provider's update() is
   * missing or ignores them): 'all', or a list. The deployer re-applies the ones it can
   * (see RECONCILED) and refuses a change to the others.
   */
  fixedOnUpdate?: 'all' | readonly string[];
}

/** Properties the deployer applies itself after an update, because LocalStack's update ignores them. */
export const RECONCILED: Readonly<Record<string, readonly string[]>> = {
  'AWS::S3::Bucket': ['NotificationConfiguration', 'CorsConfiguration'],
};

const TAGS = 'tags are metadata; nothing locally reads them';
const ENCRYPTION = 'data at rest is not encrypted locally; reads and writes behave the same with or without it';

const refuse = (at: string, what: string, why: string): string => `${at}: ${what} ${why}`;

export const SUPPORT: Readonly<Record<string, TypeSupport>> = {
  'AWS::S3::Bucket': {
    owner: 'localstack',
    implemented: ['BucketName', 'NotificationConfiguration', 'CorsConfiguration', 'VersioningConfiguration', 'ObjectLockEnabled', 'ObjectLockConfiguration', 'WebsiteConfiguration', 'AccessControl'],
    inert: {
      LoggingConfiguration: 'server access logs are not delivered locally (LocalStack reads no LoggingConfiguration)',
      LifecycleConfiguration: 'objects do not expire locally; a local stack lives minutes to days',
      BucketEncryption: ENCRYPTION,
      PublicAccessBlockConfiguration: 'nothing is public locally: LocalStack listens on 127.0.0.1 only',
      OwnershipControls: 'ACLs are not enforced locally',
      Tags: TAGS,
    },
    check: (p, at) => {
      const n = p.NotificationConfiguration ?? {};
      const problems: string[] = [];
      if (n.LambdaConfigurations?.length) problems.push(refuse(at, 'NotificationConfiguration.LambdaConfigurations', 'is not supported locally: S3 would invoke a function LocalStack does not run; send the events to SNS or SQS (as the pipelines do) and map the queue to the function'));
      if (n.EventBridgeConfiguration) problems.push(refuse(at, 'NotificationConfiguration.EventBridgeConfiguration', 'is not supported locally (no EventBridge in the local stack)'));
      for (const key of Object.keys(n)) if (!['TopicConfigurations', 'QueueConfigurations', 'LambdaConfigurations', 'EventBridgeConfiguration'].includes(key)) problems.push(refuse(at, `NotificationConfiguration.${key}`, 'is not implemented locally'));
      return problems;
    },
    // aws_s3_bucket.py has no update(): the deployer re-applies notifications and CORS (RECONCILED).
    fixedOnUpdate: ['BucketName', 'VersioningConfiguration', 'ObjectLockEnabled', 'ObjectLockConfiguration', 'WebsiteConfiguration', 'AccessControl'],
  },
  'AWS::S3::BucketPolicy': {
    owner: 'localstack',
    implemented: ['Bucket', 'PolicyDocument'],
    fixedOnUpdate: 'all',
  },
  'AWS::DynamoDB::GlobalTable': {
    owner: 'localstack',
    implemented: ['AttributeDefinitions', 'BillingMode', 'GlobalSecondaryIndexes', 'KeySchema', 'LocalSecondaryIndexes', 'StreamSpecification', 'TableName', 'TimeToLiveSpecification', 'Replicas', 'SSESpecification'],
    inert: { Tags: TAGS },
    check: (p, at) => {
      const problems: string[] = [];
      if (p.BillingMode !== 'PAY_PER_REQUEST') problems.push(refuse(at, `BillingMode ${p.BillingMode ?? '(PROVISIONED)'}`, 'is not supported locally: LocalStack creates global tables without throughput (use on-demand billing)'));
      const replicas = (p.Replicas ?? []) as Array<Record<string, unknown>>;
      if (replicas.length > 1) problems.push(refuse(at, `${replicas.length} Replicas`, 'are not supported locally: one region only (LocalStack fails on a second replica)'));
      const replicaKnown = ['Region', 'GlobalSecondaryIndexes', 'PointInTimeRecoverySpecification', 'Tags', 'DeletionProtectionEnabled', 'ContributorInsightsSpecification', 'TableClass', 'SSESpecification'];
      for (const r of replicas) for (const key of Object.keys(r)) if (!replicaKnown.includes(key)) problems.push(refuse(at, `Replicas[].${key}`, 'is not implemented locally'));
      return problems;
    },
    // Inert parts of a replica (read from aws_dynamodb_globaltable.py: only Region and the indexes
    // are passed): PointInTimeRecoverySpecification (no backups locally), DeletionProtectionEnabled,
    // ContributorInsightsSpecification, TableClass, Tags.
    fixedOnUpdate: 'all',
  },
  'AWS::SNS::Topic': {
    owner: 'localstack',
    implemented: ['TopicName', 'DisplayName', 'FifoTopic', 'ContentBasedDeduplication', 'KmsMasterKeyId', 'Subscription', 'SignatureVersion', 'TracingConfig', 'ArchivePolicy', 'DeliveryStatusLogging'],
    inert: { Tags: TAGS },
    fixedOnUpdate: ['TopicName', 'FifoTopic', 'ContentBasedDeduplication', 'KmsMasterKeyId', 'Subscription', 'SignatureVersion', 'TracingConfig', 'ArchivePolicy', 'DeliveryStatusLogging'],
  },
  'AWS::SNS::TopicPolicy': { owner: 'localstack', implemented: ['Topics', 'PolicyDocument'], fixedOnUpdate: 'all' },
  'AWS::SNS::Subscription': {
    owner: 'localstack',
    implemented: ['TopicArn', 'Protocol', 'Endpoint', 'RawMessageDelivery', 'FilterPolicy', 'FilterPolicyScope', 'RedrivePolicy', 'DeliveryPolicy', 'Region'],
    check: (p, at) => (['sqs', 'sns', 'http', 'https'].includes(String(p.Protocol)) ? [] : [refuse(at, `Protocol ${p.Protocol}`, 'is not supported locally: subscribe an SQS queue (and map it to a function)')]),
  },
  'AWS::SQS::Queue': {
    owner: 'localstack',
    implemented: [
      'QueueName', 'ContentBasedDeduplication', 'DeduplicationScope', 'DelaySeconds', 'FifoQueue', 'FifoThroughputLimit', 'KmsDataKeyReusePeriodSeconds', 'KmsMasterKeyId', 'MaximumMessageSize',
      'MessageRetentionPeriod', 'ReceiveMessageWaitTimeSeconds', 'RedriveAllowPolicy', 'RedrivePolicy', 'SqsManagedSseEnabled', 'VisibilityTimeout',
    ],
    inert: { Tags: TAGS },
  },
  'AWS::SQS::QueuePolicy': { owner: 'localstack', implemented: ['Queues', 'PolicyDocument'] },
  'AWS::Logs::LogGroup': {
    owner: 'localstack',
    implemented: ['LogGroupName'],
    inert: {
      RetentionInDays: 'log events are not expired locally; a local stack lives minutes to days',
      KmsKeyId: ENCRYPTION,
      DataProtectionPolicy: 'no log data masking locally',
      LogGroupClass: 'every local log group is STANDARD',
      Tags: TAGS,
    },
    fixedOnUpdate: ['LogGroupName'],
  },
  'AWS::CloudWatch::Alarm': {
    owner: 'localstack',
    // Read from aws_cloudwatch_alarm.py: these go to PutMetricAlarm; LocalStack evaluates the alarm
    // every EvaluationPeriods x Period seconds and publishes its state changes to SNS.
    implemented: [
      'AlarmName', 'ComparisonOperator', 'EvaluationPeriods', 'Period', 'MetricName', 'Namespace', 'Statistic', 'Threshold', 'ActionsEnabled', 'AlarmActions', 'AlarmDescription',
      'DatapointsToAlarm', 'Dimensions', 'EvaluateLowSampleCountPercentile', 'ExtendedStatistic', 'InsufficientDataActions', 'Metrics', 'OKActions', 'ThresholdMetricId', 'TreatMissingData', 'Unit',
    ],
    inert: { Tags: TAGS },
    fixedOnUpdate: ['AlarmName'],
  },
  'AWS::IAM::Role': {
    owner: 'localstack',
    // Created in LocalStack's IAM; what a role allows is evaluated from the template, not by LocalStack.
    implemented: ['AssumeRolePolicyDocument', 'Description', 'ManagedPolicyArns', 'MaxSessionDuration', 'Path', 'PermissionsBoundary', 'Policies', 'RoleName'],
    inert: { Tags: TAGS },
  },
  'AWS::IAM::Policy': { owner: 'localstack', implemented: ['PolicyDocument', 'PolicyName', 'Roles', 'Users', 'Groups'] },

  // ---- What the local Lambda service runs itself (community LocalStack runs no container image).
  'AWS::Lambda::Function': {
    owner: 'local-lambda',
    implemented: ['Code', 'PackageType', 'MemorySize', 'Timeout', 'Environment', 'Role', 'Description', 'FunctionName', 'Architectures', 'EphemeralStorage', 'ReservedConcurrentExecutions', 'ImageConfig', 'LoggingConfig'],
    inert: {
      Tags: TAGS,
      TracingConfig: 'no X-Ray locally: traces are not recorded (the trace header is still passed to the function)',
    },
    check: (p, at) => {
      const problems: string[] = [];
      if (p.PackageType !== 'Image') problems.push(refuse(at, `PackageType ${p.PackageType ?? 'Zip'}`, 'is not supported locally: only container-image functions run (build one with docker/Dockerfile)'));
      for (const key of Object.keys(p.Code ?? {})) if (key !== 'ImageUri') problems.push(refuse(at, `Code.${key}`, 'is not supported locally: only Code.ImageUri'));
      for (const key of Object.keys(p.ImageConfig ?? {})) if (!['Command', 'EntryPoint', 'WorkingDirectory'].includes(key)) problems.push(refuse(at, `ImageConfig.${key}`, 'is not implemented locally'));
      for (const key of Object.keys(p.LoggingConfig ?? {})) if (!['LogGroup', 'LogFormat', 'ApplicationLogLevel', 'SystemLogLevel'].includes(key)) problems.push(refuse(at, `LoggingConfig.${key}`, 'is not implemented locally'));
      for (const key of Object.keys(p.Environment ?? {})) if (key !== 'Variables') problems.push(refuse(at, `Environment.${key}`, 'is not implemented locally'));
      const arch = [p.Architectures ?? ['x86_64']].flat();
      if (arch.length !== 1 || !['x86_64', 'arm64'].includes(String(arch[0]))) problems.push(refuse(at, `Architectures ${JSON.stringify(p.Architectures)}`, 'must be one of x86_64, arm64'));
      return problems;
    },
  },
  'AWS::Lambda::EventSourceMapping': {
    owner: 'local-lambda',
    implemented: [
      'EventSourceArn', 'FunctionName', 'BatchSize', 'MaximumBatchingWindowInSeconds', 'FunctionResponseTypes', 'Enabled', 'StartingPosition', 'BisectBatchOnFunctionError',
      'MaximumRetryAttempts', 'MaximumRecordAgeInSeconds', 'DestinationConfig', 'ScalingConfig', 'ParallelizationFactor',
    ],
    inert: { Tags: TAGS },
    check: (p, at) => {
      const problems: string[] = [];
      const factor = p.ParallelizationFactor ?? 1;
      if (factor !== 1) problems.push(refuse(at, `ParallelizationFactor ${factor}`, 'is not implemented locally: one batch per shard at a time'));
      for (const key of Object.keys(p.DestinationConfig ?? {})) if (key !== 'OnFailure') problems.push(refuse(at, `DestinationConfig.${key}`, 'is not implemented locally'));
      for (const key of Object.keys(p.ScalingConfig ?? {})) if (key !== 'MaximumConcurrency') problems.push(refuse(at, `ScalingConfig.${key}`, 'is not implemented locally'));
      return problems;
    },
  },
  'AWS::Lambda::EventInvokeConfig': {
    owner: 'local-lambda',
    implemented: ['FunctionName', 'Qualifier', 'MaximumRetryAttempts', 'MaximumEventAgeInSeconds', 'DestinationConfig'],
    check: (p, at) => {
      const problems: string[] = [];
      if (p.Qualifier !== '$LATEST') problems.push(refuse(at, `Qualifier ${p.Qualifier}`, 'is not supported locally: no versions or aliases, only $LATEST'));
      for (const key of Object.keys(p.DestinationConfig ?? {})) if (!['OnFailure', 'OnSuccess'].includes(key)) problems.push(refuse(at, `DestinationConfig.${key}`, 'is not implemented locally'));
      return problems;
    },
  },
  'AWS::Lambda::Url': {
    owner: 'local-lambda',
    implemented: ['TargetFunctionArn', 'AuthType', 'Cors', 'InvokeMode'],
    check: (p, at) => (p.InvokeMode === undefined || p.InvokeMode === 'BUFFERED' ? [] : [refuse(at, `InvokeMode ${p.InvokeMode}`, 'is not supported locally: BUFFERED only')]),
  },
  'AWS::Lambda::Permission': {
    owner: 'local-lambda',
    // A function's resource policy: recorded with the function; who may invoke it is not checked
    // locally yet (the Invoke API and the event sources are open to 127.0.0.1).
    implemented: [],
    inert: {
      Action: 'resource policies are recorded, not enforced locally yet',
      FunctionName: 'resource policies are recorded, not enforced locally yet',
      Principal: 'resource policies are recorded, not enforced locally yet',
      SourceArn: 'resource policies are recorded, not enforced locally yet',
      SourceAccount: 'resource policies are recorded, not enforced locally yet',
      FunctionUrlAuthType: 'resource policies are recorded, not enforced locally yet',
      PrincipalOrgID: 'resource policies are recorded, not enforced locally yet',
      EventSourceToken: 'resource policies are recorded, not enforced locally yet',
    },
  },
  'AWS::Logs::SubscriptionFilter': {
    // LocalStack would deliver to its own Lambda: the service matches the pattern and invokes the function.
    owner: 'local-lambda',
    implemented: ['LogGroupName', 'FilterPattern', 'DestinationArn', 'FilterName'],
    inert: { Distribution: 'one delivery per log stream locally', RoleArn: 'a Lambda destination needs no role (its resource policy allows CloudWatch Logs)', ApplyOnTransformedLogs: 'no log transformers locally' },
    check: (p, at) => (typeof p.DestinationArn === 'string' && !/^arn:aws[\w-]*:lambda:/.test(p.DestinationArn) ? [refuse(at, `DestinationArn ${p.DestinationArn}`, 'is not supported locally: a Lambda function of the template only')] : []),
  },
  'AWS::Scheduler::Schedule': {
    owner: 'local-lambda',
    implemented: ['ScheduleExpression', 'ScheduleExpressionTimezone', 'FlexibleTimeWindow', 'State', 'Target', 'Name', 'GroupName', 'StartDate', 'EndDate'],
    inert: { Description: 'text for people', KmsKeyArn: ENCRYPTION },
    check: (p, at) => {
      const problems: string[] = [];
      const target = p.Target ?? {};
      for (const key of Object.keys(target)) if (!['Arn', 'RoleArn', 'Input', 'RetryPolicy', 'DeadLetterConfig'].includes(key)) problems.push(refuse(at, `Target.${key}`, 'is not implemented locally (a Lambda function target takes Arn, RoleArn, Input, RetryPolicy, DeadLetterConfig)'));
      if (p.GroupName !== undefined && p.GroupName !== 'default') problems.push(refuse(at, `GroupName ${p.GroupName}`, 'is not supported locally: the default group only'));
      return problems;
    },
  },
};

/** Template sections and entries the local run knows it may leave out, each with its reason. */
export const INERT_TEMPLATE_PARTS: Readonly<Record<string, string>> = {
  'Parameters.BootstrapVersion': "CDK's bootstrap version, read from SSM on AWS: only `cdk deploy` needs the bootstrap stack",
  'Rules.CheckBootstrapVersion': "CDK's check of that version: only `cdk deploy` needs the bootstrap stack",
};

/** Attributes of a resource entry (beside Type and Properties) and what the local run does with them. */
const RESOURCE_ATTRIBUTES = new Set(['Type', 'Properties', 'DependsOn', 'Condition', 'Metadata', 'DeletionPolicy', 'UpdateReplacePolicy']);

/** Every part of the template the local run would not implement, as sentences; empty when none. */
export function unsupportedParts(template: CfnTemplate): string[] {
  const problems: string[] = [];
  if (template.Transform !== undefined) problems.push('Transform: template macros are not expanded locally (synthesize plain CloudFormation)');
  for (const [name, p] of Object.entries(template.Parameters ?? {})) {
    if (INERT_TEMPLATE_PARTS[`Parameters.${name}`]) continue;
    if (p.Default === undefined) problems.push(`Parameters.${name}: has no Default, and the local run passes no parameter values`);
    if (String(p.Type).startsWith('AWS::SSM::')) problems.push(`Parameters.${name}: ${p.Type} reads SSM, which the local stack does not run`);
  }
  for (const name of Object.keys(template.Rules ?? {})) if (!INERT_TEMPLATE_PARTS[`Rules.${name}`]) problems.push(`Rules.${name}: template rules are not evaluated locally`);
  for (const [id, resource] of Object.entries(template.Resources)) {
    const at = `Resources.${id} (${resource.Type})`;
    const support = SUPPORT[resource.Type];
    if (!support) {
      problems.push(`${at}: the resource type ${resource.Type} is not implemented locally (neither LocalStack's CloudFormation nor the local Lambda service creates it)`);
      continue;
    }
    for (const attribute of Object.keys(resource)) if (!RESOURCE_ATTRIBUTES.has(attribute)) problems.push(`${at}: the resource attribute ${attribute} is not implemented locally`);
    if (support.owner === 'local-lambda' && resource.Condition !== undefined) problems.push(`${at}: a Condition on a resource the local Lambda service runs is not supported`);
    const properties = resource.Properties ?? {};
    for (const property of Object.keys(properties)) {
      if (!support.implemented.includes(property) && !support.inert?.[property]) problems.push(`${at}: the property ${property} is not implemented locally`);
    }
    problems.push(...(support.check?.(properties, at) ?? []));
    for (const target of dependsOn(resource)) if (!template.Resources[target]) problems.push(`${at}: DependsOn names ${target}, which is not in the template`);
  }
  return problems;
}

/** Which resources LocalStack creates and which the local Lambda service runs. */
export function ownerOf(type: string): Owner {
  const support = SUPPORT[type];
  if (!support) throw new Error(`the resource type ${type} is not implemented locally`);
  return support.owner;
}

/** True for a Ref/GetAtt target that is a pseudo parameter or a template parameter, not a resource. */
export const isParameter = (template: CfnTemplate, id: string): boolean => isPseudo(id) || Boolean(template.Parameters?.[id]);
