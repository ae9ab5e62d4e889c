// Lambda entry point: adapts the S3 event and the AWS clients to the notify core.
import type { Context, S3Event } from 'aws-lambda';
import { z } from 'zod';
import { s3, sns } from '#shared/clients';
import { loadConfig, requiredString } from '#shared/config';
import { invocationLogger } from '#shared/logger';
import { S3ObjectStore } from '#shared/object-store';
import { SnsPublisher } from '#shared/publisher';
import { objectCreatedRecords } from '#shared/s3-event';
import { notifyUploads } from './notify';

const config = loadConfig(z.object({ TOPIC_ARN: requiredString.regex(/^arn:aws[\w-]*:sns:/, 'must be an SNS topic ARN') }));
const deps = { store: new S3ObjectStore(s3()), publisher: new SnsPublisher(sns(), config.TOPIC_ARN) };

export async function handler(event: S3Event, context: Context): Promise<{ published: number; messageIds: string[] }> {
  const refs = objectCreatedRecords(event);
  const messageIds = await notifyUploads(refs, deps);
  invocationLogger(context).info({ published: messageIds.length, keys: refs.map((r) => r.key) }, 'notifications published');
  return { published: messageIds.length, messageIds };
}
