// The edit loop, as a developer lives it: `make dev`, an upload, a one-line change to a handler
// file (the notification subject), and the next upload runs the new code, seconds later, without
// rebuilding an image. The file is restored whatever happens.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { destroyClients, localClients } from '../toolkit/clients';
import { output, readStack } from '../toolkit/stack';
import { describeWithDocker, eventually } from './support/docker';
import { Probe } from './support/probe';

const ROOT = `${__dirname}/..`;
const SOURCE = `${ROOT}/functions/notify/notify.ts`;
const ORIGINAL_SUBJECT = 'subject: `New upload: s3://${ref.bucket}/${ref.key}`';
const NEW_SUBJECT = 'subject: `Fresh upload: s3://${ref.bucket}/${ref.key}`';

describeWithDocker('make dev: edit, save, the next event runs the new code', () => {
  const clients = localClients();
  let probe: Probe;
  const original = readFileSync(SOURCE, 'utf8');
  let dev: ChildProcess | undefined;
  let printed = '';
  const restore = () => writeFileSync(SOURCE, original);
  process.on('exit', restore);

  beforeAll(async () => {
    expect(original).toContain(ORIGINAL_SUBJECT);
    dev = spawn('make', ['--no-print-directory', 'dev'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    dev.stdout!.on('data', (c: Buffer) => (printed += c.toString()));
    dev.stderr!.on('data', (c: Buffer) => (printed += c.toString()));
    await eventually(async () => {
      if (dev!.exitCode !== null) throw new Error(`make dev exited (${dev!.exitCode}):\n${printed.slice(-3000)}`);
      return printed.includes('make dev: watching') ? true : undefined;
    }, 'make dev watching', 900_000, 500);
    const view = await readStack();
    probe = new Probe(clients, { output: (key) => output(view, key) });
  }, 960_000);

  afterAll(() => {
    restore();
    if (dev?.pid) process.kill(-dev.pid, 'SIGINT');
    destroyClients(clients);
    execFileSync('make', ['--no-print-directory', 'down'], { cwd: ROOT, stdio: 'ignore', timeout: 120_000 });
  }, 180_000);

  const subjectOf = async (key: string) =>
    (await eventually(async () => (await probe.notificationsAbout('UploadNotifications', key))[0], `the notification of ${key}`, 60_000)) as unknown as { Subject: string };

  it('changes the notification subject in about a second after the save', async () => {
    const before = `images/dev-${Date.now()}-before.png`;
    await probe.put(before, 'x', 'image/png');
    // SNS subjects are at most 100 characters (notify shortens longer ones): the start says it all.
    expect((await subjectOf(before)).Subject).toMatch(/^New upload: s3:\/\//);

    const saved = Date.now();
    writeFileSync(SOURCE, original.replace(ORIGINAL_SUBJECT, NEW_SUBJECT));
    await eventually(async () => (/reloaded notify in \d+ ms/.test(printed) ? true : undefined), 'the reload line', 60_000, 50);
    const reloadedMs = Date.now() - saved;
    console.log(`make dev: save -> notify reloaded in ${reloadedMs} ms; ${/reloaded notify in .*/.exec(printed)?.[0]}`);

    const after = `images/dev-${Date.now()}-after.png`;
    await probe.put(after, 'x', 'image/png');
    expect((await subjectOf(after)).Subject).toMatch(/^Fresh upload: s3:\/\//);
    expect(reloadedMs).toBeLessThan(10_000);
  });
});
