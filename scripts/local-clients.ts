// SDK clients for a local endpoint (LocalStack), used by bootstrap, demo, bench and the tests.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_REGION } from '#stack/local';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4566';

export interface LocalClients {
  endpoint: string;
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
  dynamodb: DynamoDBClient;
}

export function localClients(endpoint = process.env.AWS_ENDPOINT_URL ?? DEFAULT_ENDPOINT): LocalClients {
  const config = {
    endpoint,
    region: process.env.AWS_REGION ?? LOCAL_REGION,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' },
  };
  return {
    endpoint,
    s3: new S3Client({ ...config, forcePathStyle: true }),
    sqs: new SQSClient(config),
    sns: new SNSClient(config),
    dynamodb: new DynamoDBClient(config),
  };
}

export function destroyClients(clients: LocalClients): void {
  for (const client of [clients.s3, clients.sqs, clients.sns, clients.dynamodb]) client.destroy();
}

/** Connection refused and friends: the endpoint is not there at all. */
export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: string; cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(code ?? '') || (error as Error)?.name === 'TimeoutError';
}
