// One function of the pipelines, as every one of them is made: a container image from ECR (the
// repository `make push` fills, pinned to the digest it recorded), a role of its own that may write
// its own log group (no managed policy), that log group with a retention, a dead-letter queue, and
// Event invocations retried as Lambda does by default, then sent to that queue.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FunctionSettings } from '../config';
import type { PushedImage } from '../images';

/** Lambda's placeholder for a function not pushed yet: the template stays valid, deploy refuses it. */
export const PLACEHOLDER_DIGEST = `sha256:${'0'.repeat(64)}`;

/** SQS keeps dead letters as long as it can (14 days): they are there to be read later. */
export const DLQ_RETENTION = Duration.days(14);

/** The CloudWatch namespace of the functions' own metrics (EMF, Powertools Metrics). */
export const METRICS_NAMESPACE = 'LambdaPipelines';

export interface PipelineFunctionProps extends FunctionSettings {
  /** The folder under functions/: the image `<project>/<code>` built from it. */
  code: string;
  project: string;
  description: string;
  /** The digest `make push` recorded for this image, if any. */
  image?: PushedImage;
  /** Another image repository than `<project>/<code>` (a test's stand-in handlers). */
  repository?: string;
  /** ImageConfig.Command: another handler of the same image (e.g. a test's stand-in). */
  command?: string[];
  environment?: Record<string, string>;
  logRetentionDays: logs.RetentionDays;
}

export class PipelineFunction extends Construct {
  readonly function: lambda.DockerImageFunction;
  readonly role: iam.Role;
  /** Where what keeps failing ends: Event invocations, and whatever its triggers give up on. */
  readonly deadLetterQueue: sqs.Queue;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const repositoryName = props.repository ?? props.image?.repository ?? `${props.project}/${props.code}`;
    // One repository reference per repository in the stack (two functions may share an image).
    const stack = Stack.of(this);
    const repositoryId = `Repository${repositoryName.replace(/[^A-Za-z0-9]/g, '')}`;
    const repository = (stack.node.tryFindChild(repositoryId) as ecr.IRepository | undefined) ?? ecr.Repository.fromRepositoryName(stack, repositoryId, repositoryName);

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    // A role of its own, with its log group instead of the managed AWSLambdaBasicExecutionRole.
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `Runs the ${props.code} function` });
    this.logGroup.grantWrite(this.role);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: DLQ_RETENTION,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is a dead-letter queue: the on-failure destination of its function (redrive target, stream failures, Event invocations).',
    });

    this.function = new lambda.DockerImageFunction(this, 'Function', {
      description: props.description,
      code: lambda.DockerImageCode.fromEcr(repository, { tagOrDigest: props.image?.digest ?? PLACEHOLDER_DIGEST, ...(props.command && { cmd: props.command }) }),
      architecture: lambda.Architecture.X86_64,
      timeout: Duration.seconds(props.timeoutSeconds),
      memorySize: props.memoryMb,
      // Powertools Metrics (functions/shared/metrics.ts): the namespace and the service dimension.
      environment: { POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME: props.code, ...props.environment },
      role: this.role,
      logGroup: this.logGroup,
      ...(props.reservedConcurrency !== undefined && { reservedConcurrentExecutions: props.reservedConcurrency }),
    });
    // Lambda's own defaults for Event invocations, stated so that the failures have somewhere to go.
    this.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: new destinations.SqsDestination(this.deadLetterQueue) });
  }

  /** Acknowledges a cdk-nag wildcard finding on this function's role, for exactly the grant named. */
  acknowledge(finding: string, reason: string): void {
    Validations.of(this.role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}
