// What a user does in their first five minutes: `make up`, then the real AWS CLI (`awslocal s3 cp`,
// or `aws --endpoint-url` where awslocal is absent) uploads the bundled photo and CSV to the bucket
// `make up` printed, then the outputs are read back from LocalStack on 127.0.0.1:4566 and checked.
import { execFileSync, spawnSync } from 'node:child_process';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import sharp from 'sharp';
import { destroyClients, localClients } from '../toolkit/clients';
import { COMPOSE_PROJECT } from '../toolkit/labels';
import { output, readStack, type StackView } from '../toolkit/stack';
import { describeWithDocker, eventually } from './support/docker';
import { make, ROOT, stackWasUp } from './support/make';
import { Probe } from './support/probe';

const cliEnv = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' };
const awslocal = spawnSync('awslocal', ['--version'], { env: cliEnv }).status === 0 ? ['awslocal'] : ['aws', '--endpoint-url', 'http://127.0.0.1:4566'];
const cli = (...args: string[]) => execFileSync(awslocal[0]!, [...awslocal.slice(1), ...args], { cwd: ROOT, env: cliEnv, encoding: 'utf8' });

describeWithDocker('make up, then awslocal s3 cp', () => {
  const clients = localClients();
  const id = `it-${Date.now()}`;
  const photoKey = `images/${id} photo.jpg`;
  const csvKey = `imports/people/${id}.csv`;
  let leaveRunning = false;
  let view: StackView;
  let probe: Probe;
  let printed = '';

  beforeAll(async () => {
    leaveRunning = stackWasUp();
    printed = make('up', { capture: true });
    view = await readStack();
    probe = new Probe(clients, { output: (key) => output(view, key) });
  }, 900_000);
  afterAll(() => {
    destroyClients(clients);
    if (!leaveRunning) make('down');
  }, 120_000);

  it('make up names what it created and the bucket to copy to, and starts no function environment', () => {
    expect(printed).toContain(`awslocal s3 cp samples/photo.jpg s3://${output(view, 'UploadsBucketName')}/images/photo.jpg`);
    expect(printed).toMatch(/LocalStack's CloudFormation: \d+ resources, (created|updated|unchanged)/);
    expect(printed).toMatch(/the local Lambda service: \d+ resources: 6 functions/);
    // Environments on demand: none before the first event (a stack left up from before may have some).
    if (!leaveRunning) expect(execFileSync('docker', ['ps', '-q', '--filter', `label=lambda-pipelines.stack=${COMPOSE_PROJECT}`, '--filter', 'label=lambda-pipelines.function'], { encoding: 'utf8' }).trim()).toBe('');
  });

  it('the photo becomes upright thumbnails at 128, 512 and 1024 px, logged PROCESSED, and is announced on SNS', async () => {
    cli('s3', 'cp', '--only-show-errors', 'samples/photo.jpg', `s3://${probe.uploads}/${photoKey}`);

    const item = await probe.logItem(photoKey, 120_000);
    expect(item).toMatchObject({ function: 'thumbnail', status: 'PROCESSED' });
    // samples/photo.jpg carries EXIF orientation 6: the thumbnails come out turned upright.
    const source = await sharp(`${ROOT}/samples/photo.jpg`).metadata();
    expect(source.orientation).toBe(6);
    const [uprightWidth, uprightHeight] = [source.height, source.width];
    for (const width of [128, 512, 1024]) {
      const height = Math.round((width * uprightHeight) / uprightWidth);
      const obj = await clients.s3.send(new GetObjectCommand({ Bucket: probe.thumbnails, Key: `${photoKey}/${width}.webp` }));
      const meta = await sharp(Buffer.from(await obj.Body!.transformToByteArray())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', width, height]);
    }

    const note = await eventually(async () => (await probe.notificationsAbout('UploadNotifications', photoKey))[0], `the SNS notification of ${photoKey}`, 60_000);
    expect(JSON.parse(note.Message)).toMatchObject({ bucket: probe.uploads, key: photoKey, contentType: 'image/jpeg' });
    expect(note.MessageAttributes).toMatchObject({ keyPrefix: { Value: 'images/' }, bucket: { Value: probe.uploads } });
  });

  it('the CSV becomes typed rows in DynamoDB, its bad rows a report, its summary a PROCESSED item', async () => {
    cli('s3', 'cp', '--only-show-errors', 'samples/people.csv', `s3://${probe.uploads}/${csvKey}`);

    const item = await probe.logItem(csvKey, 120_000);
    // samples/people.csv: 12 rows, of which one has no id and one an age that is not a number.
    const people = output(view, 'PeopleTableName');
    expect(item).toMatchObject({ function: 'csv-import', status: 'PROCESSED', details: { dataset: 'people', table: people, rowsRead: 12, rowsWritten: 10, rowsRejected: 2 } });
    const row = async (id: string) => unmarshall((await clients.dynamodb.send(new GetItemCommand({ TableName: people, Key: { id: { S: id } }, ConsistentRead: true }))).Item!);
    expect(await row('u-003')).toEqual({ id: 'u-003', name: 'Hamilton, Margaret', email: 'margaret@example.com', age: 88, active: true });
    expect(await row('u-008')).toEqual({ id: 'u-008', name: 'Ken Thompson', email: 'ken@example.com', age: 82, active: false });
    const report = cli('s3', 'cp', `s3://${probe.uploads}/reports/${csvKey}.errors.csv`, '-');
    // The sample's own header, then line and reason; the line is the next-to-last column.
    const lines = report.trim().split('\n').map((l) => l.split(','));
    expect(lines[0]).toEqual(['id', 'name', 'email', 'age', 'active', 'line', 'reason']);
    expect(lines.slice(1).map((cells) => cells.at(-2))).toEqual(['12', '13']);
  });

  it('make demo, then make cost: the bill of the REPORT lines in CloudWatch Logs, as computed by hand from aws logs filter-log-events', async () => {
    make('demo', { capture: true });
    // By hand: every REPORT line of every function's log group (requests, Billed Duration x Memory Size).
    const byHand = () => {
      let requests = 0;
      let gbSeconds = 0;
      for (const fn of view.functions) {
        const events = JSON.parse(cli('logs', 'filter-log-events', '--log-group-name', fn.logGroup, '--filter-pattern', 'REPORT')).events as { message: string }[];
        for (const e of events) {
          const m = /^REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: (\d+) ms\tMemory Size: (\d+) MB/.exec(e.message);
          if (!m) continue;
          requests++;
          gbSeconds += (Number(m[1]) / 1000) * (Number(m[2]) / 1024);
        }
      }
      // us-east-1: $0.20 per million requests; $0.0000166667 (x86_64) and $0.0000133334 (arm64) per GB-s.
      return { requests, x86: (requests / 1e6) * 0.2 + gbSeconds * 0.0000166667, arm: (requests / 1e6) * 0.2 + gbSeconds * 0.0000133334 };
    };
    // The demo's last REPORT lines may still be on their way (the service puts them every second):
    // the same figures before and after make cost.
    const { printed, hand } = await eventually(async () => {
      const before = byHand();
      const out = make('cost', { capture: true });
      const after = byHand();
      return before.requests > 0 && before.requests === after.requests ? { printed: out, hand: after } : undefined;
    }, 'the same REPORT lines before and after make cost', 60_000);
    expect(hand.requests).toBeGreaterThanOrEqual(5);
    expect(printed).toContain(`run total x86_64: $${hand.x86.toFixed(8)}`);
    expect(printed).toContain(`run total arm64: $${hand.arm.toFixed(8)}`);
    expect(printed).toMatch(/per 1,000,000 invocations at this run's mix .*\n {2}x86_64: \$\d+\.\d\d, \$\d+\.\d\d after the free tier/);
  });
});
