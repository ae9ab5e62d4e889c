// A topic people and tests can read without an e-mail address: an SQS queue subscribed to it with
// raw delivery off (Subject and MessageAttributes kept in the SNS envelope). Nothing processes it;
// unread messages expire after SQS's default four days.
import { Duration, Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export class TopicInbox extends Construct {
  readonly topic: sns.Topic;
  readonly inbox: sqs.Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { enforceSSL: true });
    // Long enough for a reader to delete what it received.
    this.inbox = new sqs.Queue(this, 'Inbox', { visibilityTimeout: Duration.seconds(30), encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
    Validations.of(this.inbox).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'A topic inbox that nothing processes: people and tests read it; unread messages expire.' });
    this.topic.addSubscription(new subscriptions.SqsSubscription(this.inbox, { rawMessageDelivery: false }));
  }
}
