// What IAM evaluates for an AWS API request a function makes: the action(s) and the resource ARN(s),
// as the Service Authorization Reference lists them for S3, DynamoDB, SNS and SQS. A request this
// module cannot map is an error whose sentence names the API: the checking endpoint refuses it
// rather than letting it through unchecked.
//   S3 (REST, path-style):  GET/HEAD object (ranges too) s3:GetObject (versionId: GetObjectVersion),
//     PUT object s3:PutObject (+ s3:GetObject on the source of a copy), multipart upload parts
//     s3:PutObject, abort s3:AbortMultipartUpload, DELETE object s3:DeleteObject, POST ?delete
//     s3:DeleteObject per key, POST form upload (presigned POST) s3:PutObject on its key; bucket
//     GET/HEAD s3:ListBucket (s3:prefix in the context), ?location s3:GetBucketLocation.
//   DynamoDB (JSON):  the operation's own action on the table, or on table/<t>/index/<i> for a Query
//     or Scan of an index; BatchWriteItem/BatchGetItem per table; TransactWriteItems/
//     TransactGetItems as the actions of their items.
//   SNS:  Publish and PublishBatch sns:Publish on the topic.
//   SQS (JSON or query):  the operation's action on the queue named by QueueUrl (batches as their
//     single forms, GetQueueUrl by QueueName).
export interface ApiRequest {
  /** The service of the SigV4 credential scope: s3, dynamodb, sns, sqs. */
  service: string;
  region: string;
  account: string;
  method: string;
  /** The path as sent (percent-encoded: the keys are decoded here). */
  path: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

export interface RequiredPermission {
  action: string;
  resource: string;
  /** Condition keys the request sets (s3:prefix...). */
  context?: Record<string, string>;
}

export class UnmappedRequestError extends Error {}

const unmapped = (what: string): never => {
  throw new UnmappedRequestError(`${what} is not mapped to an IAM action by the local permission check, so it is refused (IAM_MODE=warn lets it through with a warning)`);
};

export function requiredPermissions(request: ApiRequest): RequiredPermission[] {
  switch (request.service) {
    case 's3':
      return s3Permissions(request);
    case 'dynamodb':
      return dynamodbPermissions(request);
    case 'sns':
      return snsPermissions(request);
    case 'sqs':
      return sqsPermissions(request);
    default:
      return unmapped(`a request to the ${request.service} service`);
  }
}

// --- S3 ---------------------------------------------------------------------------------------

const s3Object = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

function s3Permissions(request: ApiRequest): RequiredPermission[] {
  const { method, query, headers } = request;
  const segments = request.path.replace(/^\//, '').split('/');
  const bucket = decodeURIComponent(segments[0] ?? '');
  const key = segments.slice(1).map(decodeURIComponent).join('/');
  // Query parameters of a presigned URL (X-Amz-Signature...) say nothing about the operation.
  const queryKeys = [...query.keys()].filter((k) => !/^x-amz-/i.test(k));
  const api = (name: string) => `S3 ${name} (${method} ${request.path}${queryKeys.length ? `?${queryKeys.join('&')}` : ''})`;
  if (!bucket) return unmapped(api('ListBuckets'));
  if (segments.length === 1 || (segments.length === 2 && segments[1] === '')) {
    // Bucket operations.
    if ((method === 'GET' || method === 'HEAD') && query.has('location')) return [{ action: 's3:GetBucketLocation', resource: `arn:aws:s3:::${bucket}` }];
    const bucketQueries = queryKeys.filter((k) => !['list-type', 'prefix', 'delimiter', 'max-keys', 'continuation-token', 'start-after', 'encoding-type', 'marker', 'fetch-owner', 'x-id'].includes(k));
    if ((method === 'GET' && bucketQueries.length === 0) || (method === 'HEAD' && bucketQueries.length === 0)) {
      return [{ action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}`, context: { 's3:prefix': query.get('prefix') ?? '', ...(query.has('max-keys') && { 's3:max-keys': query.get('max-keys')! }) } }];
    }
    if (method === 'POST' && query.has('delete')) {
      const keys = [...request.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]!));
      if (keys.length === 0) return unmapped(api('DeleteObjects without a key'));
      return keys.map((k) => ({ action: 's3:DeleteObject', resource: s3Object(bucket, k) }));
    }
    if (method === 'POST' && bucketQueries.length === 0) {
      const formKey = formField(request, 'key');
      if (formKey === undefined) return unmapped(api('a POST upload without a key field'));
      return [{ action: 's3:PutObject', resource: s3Object(bucket, formKey) }];
    }
    return unmapped(api(`the bucket operation`));
  }
  // Object operations.
  const objectQueries = queryKeys.filter((k) => !['x-id', 'partNumber', 'response-content-type', 'response-content-disposition', 'response-cache-control', 'response-content-encoding', 'response-content-language', 'response-expires'].includes(k));
  const only = (...allowed: string[]) => objectQueries.every((k) => allowed.includes(k));
  const object = s3Object(bucket, key);
  if ((method === 'GET' || method === 'HEAD') && only('versionId')) return [{ action: query.has('versionId') ? 's3:GetObjectVersion' : 's3:GetObject', resource: object }];
  if (method === 'PUT' && only('uploadId')) {
    const copySource = headers['x-amz-copy-source'];
    if (copySource === undefined) return [{ action: 's3:PutObject', resource: object }];
    const [sourcePath, version] = decodeURIComponent(copySource).replace(/^\//, '').split('?versionId=');
    const [sourceBucket, ...sourceKey] = sourcePath!.split('/');
    return [
      { action: version ? 's3:GetObjectVersion' : 's3:GetObject', resource: s3Object(sourceBucket!, sourceKey.join('/')) },
      { action: 's3:PutObject', resource: object },
    ];
  }
  if (method === 'POST' && (only('uploads') || only('uploadId')) && objectQueries.length === 1) return [{ action: 's3:PutObject', resource: object }];
  if (method === 'DELETE' && only('uploadId') && query.has('uploadId')) return [{ action: 's3:AbortMultipartUpload', resource: object }];
  if (method === 'DELETE' && only('versionId')) return [{ action: query.has('versionId') ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: object }];
  if (method === 'GET' && only('uploadId') && query.has('uploadId')) return [{ action: 's3:ListMultipartUploadParts', resource: object }];
  return unmapped(api('the object operation'));
}

const unescapeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** A field of a multipart/form-data body (a presigned POST), before the file part. */
function formField(request: ApiRequest, name: string): string | undefined {
  const boundary = /boundary=("?)([^";]+)\1/i.exec(request.headers['content-type'] ?? '')?.[2];
  if (!boundary) return undefined;
  // The fields come before the file; reading the head of the body is enough and bounded.
  const head = request.body.subarray(0, 64 * 1024).toString('latin1');
  for (const part of head.split(`--${boundary}`)) {
    const [rawHeaders, ...rest] = part.split('\r\n\r\n');
    if (!rawHeaders || !new RegExp(`content-disposition:\\s*form-data;\\s*name="${name}"`, 'i').test(rawHeaders)) continue;
    return Buffer.from(rest.join('\r\n\r\n').replace(/\r\n$/, ''), 'latin1').toString('utf8');
  }
  return undefined;
}

// --- DynamoDB -----------------------------------------------------------------------------------

const TABLE_OPERATIONS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'DescribeTable', 'DescribeTimeToLive', 'ConditionCheckItem']);

function jsonBody(request: ApiRequest, api: string): Record<string, any> {
  try {
    const parsed = JSON.parse(request.body.toString('utf8') || '{}') as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, any>;
  } catch {
    // below
  }
  return unmapped(`${api} with a body that is not a JSON object`);
}

/** The operation of a JSON-protocol request (`X-Amz-Target: Prefix.Operation`). */
const targetOperation = (request: ApiRequest): string | undefined => request.headers['x-amz-target']?.split('.').pop();

function dynamodbPermissions(request: ApiRequest): RequiredPermission[] {
  const operation = targetOperation(request);
  if (!operation) return unmapped('a DynamoDB request without X-Amz-Target');
  const api = `DynamoDB ${operation}`;
  const body = jsonBody(request, api);
  const table = (name: unknown, index?: unknown) => {
    if (typeof name !== 'string' || name === '') return unmapped(`${api} without a TableName`);
    // A table's name or its ARN may be given.
    const arn = name.startsWith('arn:') ? name : `arn:aws:dynamodb:${request.region}:${request.account}:table/${name}`;
    return typeof index === 'string' ? `${arn}/index/${index}` : arn;
  };
  if (TABLE_OPERATIONS.has(operation)) {
    const index = operation === 'Query' || operation === 'Scan' ? body.IndexName : undefined;
    return [{ action: `dynamodb:${operation}`, resource: table(body.TableName, index) }];
  }
  if (operation === 'BatchWriteItem' || operation === 'BatchGetItem') {
    const tables = Object.keys((body.RequestItems ?? {}) as object);
    if (tables.length === 0) return unmapped(`${api} without RequestItems`);
    return tables.map((t) => ({ action: `dynamodb:${operation}`, resource: table(t) }));
  }
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const items = (Array.isArray(body.TransactItems) ? body.TransactItems : []) as Array<Record<string, { TableName?: unknown }>>;
    if (items.length === 0) return unmapped(`${api} without TransactItems`);
    const kinds: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };
    return items.flatMap((item) =>
      Object.entries(item).map(([kind, spec]) => {
        const action = kinds[kind];
        if (!action) return unmapped(`${api} with a ${kind} item`);
        return { action: `dynamodb:${action}`, resource: table(spec?.TableName) };
      }),
    );
  }
  return unmapped(api);
}

// --- SNS and SQS (query or JSON protocol) ----------------------------------------------------------

/** The operation and its parameters, from a form body (query protocol) or a JSON body. */
function protocolParams(request: ApiRequest, service: string): { operation: string; params: Record<string, any> } {
  const target = targetOperation(request);
  if (target) return { operation: target, params: jsonBody(request, `${service} ${target}`) };
  const form = new URLSearchParams(request.method === 'GET' ? request.query : request.body.toString('utf8'));
  const operation = form.get('Action');
  if (!operation) return unmapped(`a ${service} request without an Action`);
  return { operation, params: Object.fromEntries(form) };
}

function snsPermissions(request: ApiRequest): RequiredPermission[] {
  const { operation, params } = protocolParams(request, 'SNS');
  if (operation === 'Publish' || operation === 'PublishBatch') {
    const topic = params.TopicArn ?? params.TargetArn;
    if (typeof topic !== 'string' || !topic) return unmapped(`SNS ${operation} without a TopicArn`);
    return [{ action: 'sns:Publish', resource: topic }];
  }
  return unmapped(`SNS ${operation}`);
}

const SQS_ACTIONS: Record<string, string> = {
  SendMessage: 'sqs:SendMessage',
  SendMessageBatch: 'sqs:SendMessage',
  ReceiveMessage: 'sqs:ReceiveMessage',
  DeleteMessage: 'sqs:DeleteMessage',
  DeleteMessageBatch: 'sqs:DeleteMessage',
  ChangeMessageVisibility: 'sqs:ChangeMessageVisibility',
  ChangeMessageVisibilityBatch: 'sqs:ChangeMessageVisibility',
  GetQueueAttributes: 'sqs:GetQueueAttributes',
  GetQueueUrl: 'sqs:GetQueueUrl',
};

function sqsPermissions(request: ApiRequest): RequiredPermission[] {
  const { operation, params } = protocolParams(request, 'SQS');
  const action = SQS_ACTIONS[operation];
  if (!action) return unmapped(`SQS ${operation}`);
  const queueArn = (name: string) => `arn:aws:sqs:${request.region}:${request.account}:${name}`;
  if (operation === 'GetQueueUrl') {
    if (typeof params.QueueName !== 'string' || !params.QueueName) return unmapped('SQS GetQueueUrl without a QueueName');
    return [{ action, resource: queueArn(params.QueueName) }];
  }
  // The query protocol may also name the queue by the request's path.
  const url = typeof params.QueueUrl === 'string' && params.QueueUrl ? params.QueueUrl : request.path !== '/' ? request.path : undefined;
  if (!url) return unmapped(`SQS ${operation} without a QueueUrl`);
  const name = url.replace(/\/+$/, '').split('/').pop()!;
  return [{ action, resource: queueArn(name) }];
}
