// A trigger added the way a user adds one: in CDK only, in the stack's own app. A queue of the
// user's own feeds the notify function through an SQS event source, and a second prefix of the
// uploads bucket (archive/) reaches notify through a queue of its own. Nothing of the local side
// knows about either: the local Lambda service runs them because the template says so.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { Probe } from './support/probe';
import { startStack, type RunningStack } from './support/stack';

describeWithDocker('a trigger added in CDK only', () => {
  let stack: RunningStack;
  let probe: Probe;

  beforeAll(async () => {
    removeLabelledContainers();
    stack = await startStack({
      extend: (pipelines) => {
        const notify = pipelines.functions.get('notify')!;
        // A queue of the user's own, read by notify in batches of 2 with partial batch responses.
        const queue = new sqs.Queue(pipelines, 'PartnerEvents', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED, visibilityTimeout: Duration.seconds(30) });
        Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'a test queue: failures stay in it' });
        notify.function.addEventSource(new SqsEventSource(queue, { batchSize: 2, reportBatchItemFailures: true }));
        new CfnOutput(pipelines, 'PartnerEventsQueueUrl', { value: queue.queueUrl });
        // A second prefix of the uploads bucket for notify, with its own queue and DLQ redrive.
        pipelines.bucketTrigger('Archive', notify, ['archive/'], { timeoutSeconds: 5, memoryMb: 256, trigger: { batchSize: 10, maxBatchingWindowSeconds: 0, maxReceiveCount: 3 } });
      },
    });
    probe = new Probe(stack.localstack.clients, stack);
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const announced = (key: string) => eventually(async () => (await probe.notificationsAbout('UploadNotifications', key))[0], `the notification of ${key}`, 60_000);

  it('runs the new mapping: a message on the queue of its own reaches notify, which publishes it', async () => {
    // A key notify's role may read (its grant covers images/ and imports/): on AWS, as here, its
    // HeadObject of a key outside them is AccessDenied, and nothing is published.
    const key = 'images/partner/delivery-1.png';
    const event = { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', eventTime: new Date().toISOString(), s3: { bucket: { name: probe.uploads }, object: { key, size: 3, sequencer: 'p1', eTag: 'p1' } } }] };

    await stack.localstack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.output('PartnerEventsQueueUrl'), MessageBody: JSON.stringify(event) }));

    expect(JSON.parse((await announced(key)).Message)).toMatchObject({ bucket: probe.uploads, key });
    expect(stack.view.resources.filter((r) => r.type === 'AWS::Lambda::EventSourceMapping')).toHaveLength(6);
  });

  it('runs the new prefix: an upload under archive/ reaches notify through its own queue', async () => {
    await probe.put('archive/2026/old photo.png', 'x', 'image/png');

    const note = await announced('archive/2026/old photo.png');
    expect(JSON.parse(note.Message)).toMatchObject({ key: 'archive/2026/old photo.png', contentType: 'image/png' });
    expect(await probe.queueDepth('ArchiveEventQueueUrl')).toBe(0);
  });
});
