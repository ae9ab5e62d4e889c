// SDK clients for the local stack, one way for scripts, bench and suites: LocalStack's services,
// and the Lambda API of the local Lambda service.
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_REGION, LAMBDA_API_URL, LOCALSTACK_URL } from './ports';

export const DEFAULT_ENDPOINT = LOCALSTACK_URL;

/** LocalStack's credentials: any key is accepted, the secret is `test`. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface LocalClients {
  endpoint: string;
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
  dynamodb: DynamoDBClient;
  cloudformation: CloudFormationClient;
}

export function localClients(endpoint = process.env.AWS_ENDPOINT_URL ?? DEFAULT_ENDPOINT): LocalClients {
  const config = {
    endpoint,
    region: process.env.AWS_REGION ?? LOCAL_REGION,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? LOCAL_CREDENTIALS.secretAccessKey },
  };
  return {
    endpoint,
    s3: new S3Client({ ...config, forcePathStyle: true }),
    // Queue URLs name LocalStack's own host names: the endpoint given here is the one that resolves.
    sqs: new SQSClient({ ...config, useQueueUrlAsEndpoint: false }),
    sns: new SNSClient(config),
    dynamodb: new DynamoDBClient(config),
    cloudformation: new CloudFormationClient(config),
  };
}

export function destroyClients(clients: LocalClients): void {
  for (const client of [clients.s3, clients.sqs, clients.sns, clients.dynamodb, clients.cloudformation]) client.destroy();
}

const localConfig = (endpoint: string) => ({ endpoint, region: process.env.AWS_REGION ?? LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

/** LocalStack's CloudWatch Logs: the functions' log groups, written by the local Lambda service. */
export const logsClient = (endpoint = process.env.AWS_ENDPOINT_URL ?? DEFAULT_ENDPOINT): CloudWatchLogsClient => new CloudWatchLogsClient(localConfig(endpoint));

/** LocalStack's CloudWatch: AWS/Lambda and the functions' EMF metrics, the stack's alarms. */
export const cloudWatchClient = (endpoint = process.env.AWS_ENDPOINT_URL ?? DEFAULT_ENDPOINT): CloudWatchClient => new CloudWatchClient(localConfig(endpoint));

/** The Lambda API of the local Lambda service; SDK retries off unless asked for (a throttle shows). */
export const lambdaClient = (endpoint = process.env.LAMBDA_API_URL ?? LAMBDA_API_URL, maxAttempts = 1): LambdaClient =>
  new LambdaClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts });

/** Connection refused and friends: the endpoint is not there at all. */
export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: string; cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(code ?? '') || (error as Error)?.name === 'TimeoutError';
}
