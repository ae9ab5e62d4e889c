// `make invoke FUNCTION=name [EVENT=file.json]`: one direct invocation of a running function through
// the local Lambda service's Invoke API, as `sam local invoke` does but on the environments of
// `make up`. Prints the response, the duration and the function's own log lines for the request.
// FUNCTION is a folder under functions/ (or a function's name or logical id). Without EVENT it sends
// the first sample of functions/<folder>/events/, or for a function on a schedule, the event its
// schedule would send at this instant (the schedule's input from the template).
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { scheduleInput } from '../local-lambda/event-sources/schedule-expression';
import { destroyClients, lambdaClient, localClients } from '../toolkit/clients';
import { functionLogLines } from '../toolkit/function-logs';
import { functionOf, readStack, StackLookupError, type StackView } from '../toolkit/stack';

class InvokeError extends Error {}

/** The event file: EVENT when given, else the first sample in the function's events/ folder. */
export function eventFile(fn: string, given: string | undefined): string {
  if (given) {
    if (!existsSync(given)) throw new InvokeError(`EVENT=${given} does not exist`);
    return given;
  }
  const dir = join('functions', fn, 'events');
  const samples = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  if (samples.length === 0) throw new InvokeError(`functions/${fn}/events/ has no sample event: give one with EVENT=file.json`);
  return join(dir, samples[0]!);
}

/** What to send: EVENT, else for a function on a schedule its event for now, else the first sample. */
export function eventFor(folder: string, name: string, schedules: StackView['schedules'], given: string | undefined, now = new Date()): { label: string; payload: Buffer } {
  const schedule = schedules.find((s) => s.function === name);
  if (!given && schedule) {
    const payload = scheduleInput(schedule.input, { scheduleArn: schedule.arn, time: now, executionId: randomUUID(), attempt: 1 });
    return { label: `the event of schedule ${schedule.name} for now (${now.toISOString().replace(/\.\d{3}Z$/, 'Z')})`, payload: Buffer.from(payload) };
  }
  const file = eventFile(folder, given);
  return { label: file, payload: readFileSync(file) };
}

/** The S3 objects an event names (bare S3 events and SQS messages carrying them). */
export function objectsNamed(event: unknown): Array<{ bucket: string; key: string }> {
  const records = (event as { Records?: Array<Record<string, any>> })?.Records ?? [];
  const s3Records = records.flatMap((r) => {
    if (r.eventSource === 'aws:s3') return [r];
    if (r.eventSource === 'aws:sqs') {
      try {
        return (JSON.parse(String(r.body)) as { Records?: Array<Record<string, any>> }).Records ?? [];
      } catch {
        return [];
      }
    }
    return [];
  });
  return s3Records.filter((r) => r.s3?.bucket?.name && r.s3?.object?.key).map((r) => ({ bucket: r.s3.bucket.name, key: decodeURIComponent(String(r.s3.object.key).replace(/\+/g, ' ')) }));
}

/** The function's log lines of one request (Lambda's own and the function's), from its log. */
function logLines(name: string, requestId: string): string[] {
  try {
    return functionLogLines(name).filter((l) => l.message.includes(requestId)).map((l) => l.message);
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  const which = process.env.FUNCTION ?? '';
  const view = await readStack();
  let target;
  try {
    target = functionOf(view, which);
  } catch (error) {
    throw new InvokeError(`FUNCTION=${which || '(empty)'}: ${(error as Error).message}`);
  }
  const folder = target.image.replace(/:[^:/]*$/, '').split('/').pop()!;
  const fn = target.name;
  const { label: file, payload } = eventFor(folder, fn, view.schedules, process.env.EVENT);
  let event: unknown;
  try {
    event = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    throw new InvokeError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const clients = localClients();
  try {
    for (const { bucket, key } of objectsNamed(event)) {
      const found = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
      if (!found) console.log(`note: the event names s3://${bucket}/${key}, which does not exist (upload it first to see the function work on it)`);
    }
  } finally {
    destroyClients(clients);
  }

  const lambda = lambdaClient();
  console.log(`==> invoke ${folder} (${fn}) with ${file}`);
  const started = performance.now();
  let out;
  try {
    out = await lambda.send(new InvokeCommand({ FunctionName: fn, Payload: payload, LogType: 'Tail' }));
  } catch (error) {
    throw new InvokeError(`the local Lambda service did not answer (${(error as Error).message}): is the stack up (make up)?`);
  } finally {
    lambda.destroy();
  }
  const elapsed = performance.now() - started;
  const tail = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8').trim();
  const requestId = out.$metadata.requestId ?? /RequestId: (\S+)/.exec(tail)?.[1] ?? '';
  const body = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  let pretty = body;
  try {
    pretty = JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    // not JSON: print as it came
  }
  console.log(`status ${out.StatusCode}${out.FunctionError ? `, function error (${out.FunctionError})` : ''}, ${elapsed.toFixed(0)} ms round trip`);
  console.log(`response:\n${pretty}`);
  // The REPORT line is written once the environment's peak memory is read: a moment after the answer.
  let lines = requestId ? logLines(fn, requestId) : [];
  for (const deadline = Date.now() + 3_000; requestId && !lines.some((l) => l.startsWith('REPORT')) && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    lines = logLines(fn, requestId);
  }
  console.log(`log (${fn}, request ${requestId || 'unknown'}):`);
  for (const line of lines.length > 0 ? lines : tail.split('\n')) console.log(`  ${line}`);
  if (out.FunctionError) process.exitCode = 1;
}

if (process.argv[1]?.endsWith('invoke.ts')) {
  main().catch((error: unknown) => {
    console.error(error instanceof InvokeError || error instanceof StackLookupError ? `invoke: ${error.message}` : `invoke failed: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
