// AWS clients: created once per container (module-level singletons, reused across invocations).
// The SDK reads AWS_REGION and AWS_ENDPOINT_URL itself; against LocalStack S3 needs path-style URLs.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

let s3Client: S3Client | undefined;
let snsClient: SNSClient | undefined;
let dynamoClient: DynamoDBClient | undefined;
let sqsClient: SQSClient | undefined;

export const s3 = (): S3Client => (s3Client ??= new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }));
export const sns = (): SNSClient => (snsClient ??= new SNSClient({}));
export const dynamodb = (): DynamoDBClient => (dynamoClient ??= new DynamoDBClient({}));
// The endpoint configured (AWS_ENDPOINT_URL: locally the checking endpoint), never a queue URL's
// own host: LocalStack's queue URLs name a host a function's container cannot reach.
export const sqs = (): SQSClient => (sqsClient ??= new SQSClient({ useQueueUrlAsEndpoint: false }));
