// Lambda entry point: adapts the event (SQS messages carrying S3 events, or a bare S3 event) and
// the AWS clients to the notify core.
import { z } from 'zod';
import { s3, sns } from '#shared/clients';
import { loadConfig, requiredString } from '#shared/config';
import { S3ObjectStore } from '#shared/object-store';
import { SnsPublisher } from '#shared/publisher';
import { s3Trigger } from '#shared/s3-trigger';
import { notifyUpload } from './notify';

const config = loadConfig(z.object({ TOPIC_ARN: requiredString.regex(/^arn:aws[\w-]*:sns:/, 'must be an SNS topic ARN') }));
const deps = { store: new S3ObjectStore(s3()), publisher: new SnsPublisher(sns(), config.TOPIC_ARN) };

// Messages are independent: publish them at the same time.
export const handler = s3Trigger(async (ref, logger) => {
  const messageId = await notifyUpload(ref, deps);
  logger.info({ key: ref.key, messageId }, 'notification published');
  return { messageId };
}, { parallel: true });
