// A function fed by a bucket's events: a queue of its own subscribed to the bucket's event topic
// with a filter on the key, redriven to the function's dead-letter queue, read by an SQS event
// source mapping with partial batch responses. The function may read the objects it is told of.
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueTriggerSettings } from '../config';
import type { BucketEvents } from './bucket-events';
import type { PipelineFunction } from './pipeline-function';

/** AWS's advice: a source queue's visibility timeout at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface BucketTriggerProps extends QueueTriggerSettings {
  events: BucketEvents;
  target: PipelineFunction;
  /** Keys starting with any of these (OR); empty: every key. Letters, digits and `/ _ . -` only. */
  prefixes: string[];
  timeoutSeconds: number;
}

export class BucketTrigger extends Construct {
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: BucketTriggerProps) {
    super(scope, id);
    const visibility = props.visibilityTimeoutSeconds ?? props.timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;
    if (visibility < props.timeoutSeconds) {
      throw new Error(`${id}: visibilityTimeoutSeconds ${visibility} is shorter than the function timeout (${props.timeoutSeconds} s); Lambda refuses such a mapping`);
    }
    this.queue = new sqs.Queue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(visibility),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: props.target.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
    props.events.subscribe(this.queue, props.prefixes);
    props.events.grantRead(props.target.function, props.prefixes);
    props.target.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize,
        maxBatchingWindow: Duration.seconds(props.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
      }),
    );
    const bucketId = Stack.of(this).getLogicalId(props.events.props.bucket.node.defaultChild as s3.CfnBucket);
    for (const prefix of props.prefixes.length > 0 ? props.prefixes : ['']) {
      props.target.acknowledge(`Resource::<${bucketId}.Arn>/${prefix}*`, `${props.target.node.id} may read the objects under ${prefix || 'every key'} of the bucket whose events it reads, no other.`);
    }
    Validations.of(props.target.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::s3:GetObject*]',
      reason: "CDK's read grant on the objects the function's events announce (its object actions).",
    });
    for (const family of ['GetBucket*', 'List*']) {
      Validations.of(props.target.role).acknowledge({ id: `AwsSolutions-IAM5[Action::s3:${family}]`, reason: "CDK's read grant on the bucket whose events the function reads." });
    }
  }
}
