// A bucket's ObjectCreated events, fanned out through one SNS topic: S3 refuses two notification
// rules of one event type whose prefixes overlap, so every reader subscribes a queue of its own to
// the topic with a filter on the key instead. The bucket's NotificationConfiguration is written
// directly (not CDK's addEventNotification, whose custom resource is a Python Lambda), after the
// topic policy that lets exactly this bucket publish (S3 checks that when the rule is created).
import { Aws, Lazy, type IResolvable } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export const OBJECT_CREATED = 's3:ObjectCreated:*';

/** Characters S3 leaves alone when it URL-encodes keys in events, the same on AWS and LocalStack. */
const KEY_FILTER = /^[A-Za-z0-9/_.-]+$/;

/** The shortest prefixes covering all of them: S3 refuses rules whose prefixes overlap. */
export function coveringPrefixes(prefixes: readonly string[]): string[] {
  const sorted = [...new Set(prefixes)].sort((a, b) => a.length - b.length || a.localeCompare(b));
  const kept: string[] = [];
  for (const p of sorted) if (!kept.some((k) => p.startsWith(k))) kept.push(p);
  return kept.sort();
}

export interface BucketEventsProps {
  bucket: s3.Bucket;
  /** The bucket's name as the template states it (the topic policy names it before the bucket exists). */
  bucketName: string;
}

export class BucketEvents extends Construct {
  readonly topic: sns.Topic;
  private readonly prefixes: string[] = [];
  private everyKey = false;

  constructor(scope: Construct, id: string, readonly props: BucketEventsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { enforceSSL: true });
    const allowed = this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBucketNotifications',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:s3:::${props.bucketName}` }, StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    const cfnBucket = props.bucket.node.defaultChild as s3.CfnBucket;
    // Computed at synth, once every reader has subscribed: one rule per covering prefix.
    cfnBucket.notificationConfiguration = {
      topicConfigurations: Lazy.any({
        produce: () =>
          (this.everyKey ? [undefined] : coveringPrefixes(this.prefixes)).map((prefix) => ({
            event: OBJECT_CREATED,
            topic: this.topic.topicArn,
            ...(prefix !== undefined && { filter: { s3Key: { rules: [{ name: 'prefix', value: prefix }] } } }),
          })),
      }) as IResolvable,
    };
    if (allowed.policyDependable) props.bucket.node.addDependency(allowed.policyDependable);
  }

  /**
   * Delivers the events of keys starting with any of `prefixes` (every key when empty) to `queue`,
   * raw (the S3 event is the message body), filtered on the key in the message body.
   */
  subscribe(queue: sqs.IQueue, prefixes: readonly string[]): void {
    for (const p of prefixes) {
      if (!KEY_FILTER.test(p)) throw new Error(`key filter "${p}" may only hold letters, digits and / _ . - (S3 URL-encodes other characters in events, differently on AWS and LocalStack)`);
    }
    if (prefixes.length === 0) this.everyKey = true;
    this.prefixes.push(...prefixes);
    const key = sns.SubscriptionFilter.stringFilter({ matchPrefixes: [...prefixes] });
    this.topic.addSubscription(
      new subscriptions.SqsSubscription(queue, {
        rawMessageDelivery: true,
        ...(prefixes.length > 0 && {
          filterPolicyWithMessageBody: {
            Records: sns.FilterOrPolicy.policy({ s3: sns.FilterOrPolicy.policy({ object: sns.FilterOrPolicy.policy({ key: sns.FilterOrPolicy.filter(key) }) }) }),
          },
        }),
      }),
    );
  }

  /** The objects under `prefixes` are the reader's to read: what its events announce. */
  grantRead(grantee: iam.IGrantable, prefixes: readonly string[]): void {
    for (const prefix of prefixes.length > 0 ? prefixes : ['']) this.props.bucket.grantRead(grantee, `${prefix}*`);
  }
}
