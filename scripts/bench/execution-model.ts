// "Execution model" on the running stack (`make up`): what Lambda's execution model costs and gives
// locally, measured side by side in one run:
// - cold start of an on-demand environment (the event's round trip, and its Init Duration) against
//   the warm path and against `sam local invoke` (a new container per call), on the same image;
// - scale-out: the wall time of a burst of uploads to thumbnail at reserved concurrency 1 and 4;
// - CPU by memory: the same CPU-bound thumbnail at 512 and 1,769 MB (UpdateFunctionConfiguration):
//   the duration ratio should follow the CPU ratio (1,769 / 512 = 3.46).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteFunctionConcurrencyCommand, GetFunctionConfigurationCommand, InvokeCommand, PutFunctionConcurrencyCommand, UpdateFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { lambdaClient, type LocalClients } from '../../toolkit/clients';
import { COMPOSE_PROJECT } from '../../toolkit/compose';
import { FUNCTION_LABEL, STACK_LABEL } from '../../toolkit/labels';
import { offlineCases } from '../../toolkit/offline-events';
import { eventually } from '../../toolkit/eventually';
import { logItems } from '../../toolkit/processing-log';
import { LAMBDA_API_URL } from '../../toolkit/ports';
import { functionOf, output, readStack } from '../../toolkit/stack';
import { samLocalInvokeCold } from './peers';
import { percentile, table } from './stats';

export interface ExecutionModelOptions {
  coldCalls: number;
  warmCalls: number;
  burst: number;
  cpuRuns: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const environments = (name: string) =>
  execFileSync('docker', ['ps', '-q', '--filter', `label=${STACK_LABEL}=${COMPOSE_PROJECT}`, '--filter', `label=${FUNCTION_LABEL}=${name}`], { encoding: 'utf8' }).split('\n').filter(Boolean);

/** Polls with a deadline. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The service's count of a function's environments. */
async function environmentCount(name: string): Promise<number> {
  const health = (await (await fetch(`${LAMBDA_API_URL}/health`)).json()) as { functions: Record<string, { environments: { starting: number; idle: number; busy: number } }> };
  const e = health.functions[name]!.environments;
  return e.starting + e.idle + e.busy;
}

/** One invocation with its REPORT line: round trip, Duration and Init Duration in ms. */
async function invoke(lambda: LambdaClient, name: string, payload: unknown): Promise<{ roundTripMs: number; durationMs: number; initMs?: number }> {
  const started = performance.now();
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), LogType: 'Tail' }));
  const roundTripMs = performance.now() - started;
  const log = Buffer.from(out.LogResult ?? '', 'base64').toString();
  if (out.FunctionError) throw new Error(`${name} failed: ${Buffer.from(out.Payload ?? []).toString().slice(0, 300)}`);
  const duration = /\tDuration: ([\d.]+) ms/.exec(log)?.[1];
  const init = /\tInit Duration: ([\d.]+) ms/.exec(log)?.[1];
  return { roundTripMs, durationMs: Number(duration), ...(init && { initMs: Number(init) }) };
}

/** Cold starts (each environment removed first, then the event), warm calls, and sam local invoke's cold calls. */
async function coldAndWarm(lambda: LambdaClient, options: ExecutionModelOptions) {
  const name = functionOf(await readStack(), 'audit').name;
  const event = offlineCases.audit!.event;
  const cold: Array<{ roundTripMs: number; initMs: number }> = [];
  for (let i = 0; i < options.coldCalls; i++) {
    for (const id of environments(name)) execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
    await until(`${name} without environments`, async () => ((await environmentCount(name)) === 0 ? true : undefined));
    const r = await invoke(lambda, name, event);
    if (r.initMs === undefined) throw new Error('a cold start without an Init Duration');
    // Event to handler start: the round trip less the handler's own duration.
    cold.push({ roundTripMs: r.roundTripMs - r.durationMs, initMs: r.initMs });
  }
  const warm: number[] = [];
  for (let i = 0; i < options.warmCalls; i++) {
    const r = await invoke(lambda, name, event);
    warm.push(r.roundTripMs - r.durationMs);
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-execution-'));
  let sam: number[] | undefined;
  let samNote = '';
  try {
    sam = samLocalInvokeCold(options.coldCalls, dir);
  } catch (error) {
    samNote = `sam local invoke could not run: ${(error as Error).message.split('\n')[0]!.slice(0, 160)}`;
  }
  return { name, cold, warm, sam, samNote };
}

/** A burst of uploads to thumbnail at a reserved concurrency: the wall time until every one is logged. */
async function burst(clients: LocalClients, lambda: LambdaClient, count: number, reserved: number, photo: Buffer): Promise<{ ms: number; most: number }> {
  const view = await readStack();
  const name = functionOf(view, 'thumbnail').name;
  const names = { table: output(view, 'ProcessingLogTableName'), bucket: output(view, 'UploadsBucketName') };
  await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: reserved }));
  const stamp = `${Date.now()}-${reserved}`;
  const keys = Array.from({ length: count }, (_, i) => `images/bench-burst/${stamp}/${i}.jpg`);
  let most = 0;
  const watch = setInterval(() => void environmentCount(name).then((n) => (most = Math.max(most, n)), () => undefined), 100);
  try {
    const started = performance.now();
    await Promise.all(keys.map((key) => clients.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: key, Body: photo, ContentType: 'image/jpeg' }))));
    let done = 0;
    await until(`${count} thumbnails at reserved concurrency ${reserved}`, async () => {
      for (const key of keys.slice(done)) {
        const [item] = await logItems(clients.dynamodb, names.table, names.bucket, key);
        if (!item) return undefined;
        if (item.status !== 'PROCESSED') throw new Error(`${key} was ${item.status}: ${item.reason}`);
        done++;
      }
      return true;
    }, 600_000, 200);
    return { ms: performance.now() - started, most };
  } finally {
    clearInterval(watch);
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: name }));
  }
}

/** The thumbnail's own Duration (REPORT) on a 12 MP JPEG at `memoryMb`, warm, median of `runs`. */
async function thumbnailAt(clients: LocalClients, lambda: LambdaClient, memoryMb: number, runs: number, photo: Buffer): Promise<number> {
  const view = await readStack();
  const name = functionOf(view, 'thumbnail').name;
  const bucket = output(view, 'UploadsBucketName');
  const table = output(view, 'ProcessingLogTableName');
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, MemorySize: memoryMb }));
  const durations: number[] = [];
  for (let i = -1; i < runs; i++) {
    // Under images/, where thumbnail's role may read (elsewhere its GetObject is AccessDenied, as on
    // AWS). The upload's own notification is processed first, so that the measured invocation
    // below (another version of the object, by its sequencer) has the CPU to itself.
    const key = `images/bench-cpu/${Date.now()}-${memoryMb}-${i}.jpg`;
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: photo, ContentType: 'image/jpeg' }));
    await eventually(async () => (await logItems(clients.dynamodb, table, bucket, key))[0], `the notification of ${key} processed`, 120_000, 100);
    const event = { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', awsRegion: 'us-east-1', s3: { bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key, size: photo.length, sequencer: `${Date.now().toString(16)}${i + 1}` } } }] };
    const r = await invoke(lambda, name, event);
    if (i >= 0) durations.push(r.durationMs); // the first one is the cold start: not counted
  }
  return percentile(durations, 50);
}

export async function benchExecutionModel(clients: LocalClients, options: ExecutionModelOptions): Promise<{ markdown: string }> {
  const lambda = lambdaClient();
  const view = await readStack();
  const thumbnail = functionOf(view, 'thumbnail').name;
  const templateMemory = (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: thumbnail }))).MemorySize!;
  try {
    console.log('  cold and warm ...');
    const cw = await coldAndWarm(lambda, options);
    const small = await sharp({ create: { width: 1280, height: 960, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).jpeg({ quality: 85 }).toBuffer();
    console.log(`  burst of ${options.burst} at reserved concurrency 1 ...`);
    const one = await burst(clients, lambda, options.burst, 1, small);
    console.log(`  burst of ${options.burst} at reserved concurrency 4 ...`);
    const four = await burst(clients, lambda, options.burst, 4, small);
    const big = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).jpeg({ quality: 85 }).toBuffer();
    console.log('  thumbnail at 512 and 1769 MB ...');
    const at512 = await thumbnailAt(clients, lambda, 512, options.cpuRuns, big);
    const at1769 = await thumbnailAt(clients, lambda, 1769, options.cpuRuns, big);
    const p = (xs: number[], q: number) => percentile(xs, q).toFixed(0);
    const coldTrips = cw.cold.map((c) => c.roundTripMs);
    const inits = cw.cold.map((c) => c.initMs);
    const cpuRatio = at512 / at1769;
    const expected = 1769 / 512;
    return {
      markdown: [
        `Cold: ${options.coldCalls} invocations of \`${cw.name}\` (the audit image, an event that needs no AWS call), each after its environment was removed; event to handler start is the round trip less the handler's REPORT Duration. Warm: ${options.warmCalls} calls after them. \`sam local invoke\`: the whole command on the same image (${options.coldCalls} runs). Burst: ${options.burst} uploads of a 1280x960 JPEG at once to thumbnail at reserved concurrency 1 and 4 (PutFunctionConcurrency), until every item is logged. CPU: the thumbnail of a 12 MP JPEG at 512 and 1,769 MB (UpdateFunctionConfiguration; REPORT Duration, median of ${options.cpuRuns} warm runs), then back to ${templateMemory} MB.`,
        '',
        table(
          ['path', 'p50 ms', 'p95 ms'],
          [
            ['cold start: event to handler start (on-demand environment)', p(coldTrips, 50), p(coldTrips, 95)],
            ['  of which Init Duration (REPORT)', p(inits, 50), p(inits, 95)],
            ['warm: event to handler start', p(cw.warm, 50), p(cw.warm, 95)],
            ['sam local invoke (new container per call, whole command)', cw.sam ? p(cw.sam, 50) : '-', cw.sam ? p(cw.sam, 95) : '-'],
          ],
        ),
        ...(cw.samNote ? ['', cw.samNote] : []),
        '',
        table(
          ['burst', 'wall time ms', 'most environments seen'],
          [
            [`${options.burst} uploads, reserved concurrency 1`, one.ms.toFixed(0), String(one.most)],
            [`${options.burst} uploads, reserved concurrency 4`, four.ms.toFixed(0), String(four.most)],
          ],
        ),
        '',
        `Scale-out: concurrency 4 takes ${(four.ms / one.ms).toFixed(2)}x the time of concurrency 1 (the ideal is 0.25x, bounded by this machine's cores: each thumbnail environment gets 1024 / 1769 of a vCPU).`,
        '',
        table(
          ['thumbnail of a 12 MP JPEG', 'Duration p50 ms'],
          [
            ['512 MB (0.29 vCPU)', at512.toFixed(0)],
            ['1,769 MB (1 vCPU)', at1769.toFixed(0)],
          ],
        ),
        '',
        `CPU by memory: 512 MB takes ${cpuRatio.toFixed(2)}x the time of 1,769 MB; the CPU ratio is ${expected.toFixed(2)}x (${Math.abs(cpuRatio / expected - 1) <= 0.25 ? 'within 25%: follows it' : 'more than 25% off'}).`,
      ].join('\n'),
    };
  } finally {
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: thumbnail, MemorySize: templateMemory })).catch(() => undefined);
    lambda.destroy();
  }
}
