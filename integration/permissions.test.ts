// Every function runs as its role from the template (local-lambda/iam/): a grant missing from the
// stack fails locally as it would on AWS. The test stack is deployed with two grants taken out of
// its template (csv-import's writes to the people table, thumbnail's writes to the thumbnails
// bucket); then with them back, as `make up` deploys a fixed stack.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { CfnTemplate } from '../local-lambda/template/template';
import { jpeg } from '../functions/thumbnail/test-images';
import { describeWithDocker, eventually, removeLabelledContainers } from './support/docker';
import { Probe } from './support/probe';
import { startStack, type RunningStack } from './support/stack';

/** The template without the statements of `functionPrefix`'s role that name the resource `resourceId`. */
function withoutGrant(template: CfnTemplate, functionPrefix: string, resourceId: string): CfnTemplate {
  const resources = template.Resources as Record<string, { Type: string; Properties?: any }>;
  const fnId = Object.keys(resources).find((id) => resources[id]!.Type === 'AWS::Lambda::Function' && id.startsWith(functionPrefix));
  if (!fnId) throw new Error(`no function ${functionPrefix}* in the template`);
  const roleId = resources[fnId]!.Properties.Role['Fn::GetAtt'][0] as string;
  let removed = 0;
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy' || !r.Properties.Roles.some((role: { Ref?: string }) => role.Ref === roleId)) continue;
    const statements = r.Properties.PolicyDocument.Statement as Array<{ Resource: unknown }>;
    const kept = statements.filter((s) => !JSON.stringify(s.Resource).includes(`"${resourceId}"`));
    removed += statements.length - kept.length;
    r.Properties.PolicyDocument.Statement = kept;
  }
  if (removed === 0) throw new Error(`${functionPrefix}'s role has no statement on ${resourceId}`);
  return template;
}

const refOf = (template: CfnTemplate, output: string): string => (template.Outputs![output]!.Value as { Ref: string }).Ref;

describeWithDocker('permissions: each function runs as its role from the template', () => {
  let stack: RunningStack;
  let probe: Probe;
  let full: CfnTemplate;
  const clients = () => stack.localstack.clients;

  beforeAll(async () => {
    removeLabelledContainers();
    stack = await startStack({
      // Two receives, 25 s apart, then the DLQ.
      config: { csvImport: { trigger: { maxReceiveCount: 2, visibilityTimeoutSeconds: 25 } }, thumbnail: { trigger: { maxReceiveCount: 2 } } },
      editTemplate: (template) => {
        full = structuredClone(template);
        return withoutGrant(withoutGrant(template, 'CsvImport', refOf(template, 'PeopleTableName')), 'Thumbnail', refOf(template, 'ThumbnailsBucketName'));
      },
    });
    probe = new Probe(clients(), stack);
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** The permission check's denials of a function, as the service logged them. */
  const deniedLines = async (fn: string) => {
    const lines = (await stack.serviceLogs()).split('\n').filter((l) => l.includes('"source":"iam"'));
    return lines.filter((l) => l.includes('"iam":"denied"') && l.includes(`"function":"${stack.functionName(fn)}"`)).map((l) => JSON.parse(l).message as string);
  };

  it("csv-import without its grant on the people table: AccessDenied naming the action and the table's ARN, and the file FAILED with it (a retry would meet it again)", async () => {
    const key = 'imports/people/denied.csv';
    await probe.put(key, 'id,name,email,age,active\np-9,Ada,ada@example.com,36,true\n', 'text/csv');
    const tableArn = `arn:aws:dynamodb:us-east-1:000000000000:table/${stack.output('PeopleTableName')}`;
    const denied = `User: arn:aws:sts::000000000000:assumed-role/[^/]+/${stack.functionName('csv-import')} is not authorized to perform: dynamodb:(BatchWriteItem|PutItem) on resource: ${tableArn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} because no identity-based policy allows the dynamodb:(BatchWriteItem|PutItem) action`;
    const item = await probe.logItem(key, 90_000);
    // The function saw AWS's error as the SDK names it, and recorded it as the reason.
    expect(item).toMatchObject({ function: 'csv-import', status: 'FAILED' });
    expect(item.reason).toMatch(new RegExp(`^the import stopped: ${denied}$`));
    const denials = await deniedLines('csv-import');
    expect(denials.filter((m) => new RegExp(`^${denied}$`).test(m)).length).toBeGreaterThanOrEqual(1);
    const row = await clients().dynamodb.send(new GetItemCommand({ TableName: stack.output('PeopleTableName'), Key: { id: { S: 'p-9' } } }));
    expect(row.Item).toBeUndefined();
    // Not retried: the message is deleted once the file is recorded (a retry would hold it in flight).
    await eventually(async () => {
      const counts = await probe.queueCounts('CsvImportEventQueueUrl');
      return counts.waiting + counts.inFlight === 0 ? counts : undefined;
    }, "csv-import's queue empty", 20_000);
  });

  it('thumbnail without its grant on the thumbnails bucket: its writes are denied, nothing is written', async () => {
    const key = 'images/denied.jpg';
    await probe.put(key, await jpeg(640, 480), 'image/jpeg');
    const thumbs = stack.output('ThumbnailsBucketName');
    const denial = await eventually(async () => (await deniedLines('thumbnail')).find((m) => m.includes(`s3:PutObject on resource: arn:aws:s3:::${thumbs}/${key}/`)), 'a denied thumbnail write', 90_000);
    expect(denial).toMatch(/because no identity-based policy allows the s3:PutObject action$/);
    const listed = await clients().s3.send(new ListObjectsV2Command({ Bucket: thumbs, Prefix: `${key}/` }));
    expect(listed.Contents ?? []).toEqual([]);
  });

  it('with the grants back (the full template deployed), the same files are processed', async () => {
    await stack.useTemplate(full);
    // The fixed file (one more row): the first one is recorded FAILED for its version.
    await probe.put('imports/people/denied.csv', 'id,name,email,age,active\np-9,Ada,ada@example.com,36,true\np-10,Grace,grace@example.com,85,true\n', 'text/csv');
    const row = await eventually(async () => (await clients().dynamodb.send(new GetItemCommand({ TableName: stack.output('PeopleTableName'), Key: { id: { S: 'p-9' } } }))).Item, 'the row in the people table', 90_000);
    expect(unmarshall(row)).toMatchObject({ id: 'p-9', name: 'Ada', age: 36, active: true });
    await probe.put('images/denied.jpg', await jpeg(640, 480), 'image/jpeg');
    const listed = await eventually(async () => {
      const out = await clients().s3.send(new ListObjectsV2Command({ Bucket: stack.output('ThumbnailsBucketName'), Prefix: 'images/denied.jpg/' }));
      return (out.Contents?.length ?? 0) > 0 ? out.Contents : undefined;
    }, 'the thumbnails written', 90_000);
    expect(listed.length).toBeGreaterThan(0);
  });
});
