// End-to-end latency on the running stack (`make up`): from S3 PutObject returning to the
// processing-log item appearing, one upload at a time, beside the function's own duration (the
// item's durationMs). What is left, end-to-end minus function, is the local plumbing: LocalStack's
// S3 -> SQS notification, the local Lambda service's receive and dispatch, the Runtime API.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import type { LocalClients } from '../../toolkit/clients';
import { logItems } from '../../toolkit/processing-log';
import { output, readStack } from '../../toolkit/stack';
import { percentile, table } from './stats';

const POLL_MS = 5;

async function waitForItem(clients: LocalClients, names: { table: string; bucket: string }, key: string, deadline: number): Promise<Record<string, any>> {
  for (;;) {
    const [item] = await logItems(clients.dynamodb, names.table, names.bucket, key);
    if (item) return item;
    if (Date.now() > deadline) throw new Error(`no processing-log item for ${key} within the deadline: is the stack up (make ps)?`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** End to end and function durations (ms) of `uploads` uploads, one at a time, after one warm-up. */
export async function measureLatency(clients: LocalClients, uploads: number): Promise<{ e2e: number[]; fn: number[] }> {
  const view = await readStack();
  const names = { table: output(view, 'ProcessingLogTableName'), bucket: output(view, 'UploadsBucketName') };
  const photo = await sharp({ create: { width: 1280, height: 960, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).jpeg({ quality: 85 }).toBuffer();
  const stamp = Date.now();
  const e2e: number[] = [];
  const fn: number[] = [];
  // The first upload wakes every part up; it is not counted.
  for (let i = -1; i < uploads; i++) {
    const key = `images/bench-latency/${stamp}/${i}.jpg`;
    await clients.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: key, Body: photo, ContentType: 'image/jpeg' }));
    const returned = performance.now();
    const item = await waitForItem(clients, names, key, Date.now() + 60_000);
    if (item.status !== 'PROCESSED') throw new Error(`${key} was ${item.status}: ${item.reason}`);
    if (i < 0) continue;
    e2e.push(performance.now() - returned);
    fn.push(Number(item.durationMs));
    if ((i + 1) % 25 === 0) console.log(`  latency: ${i + 1}/${uploads} uploads`);
  }
  return { e2e, fn };
}

export async function benchLatency(clients: LocalClients, uploads: number): Promise<{ markdown: string }> {
  const { e2e, fn } = await measureLatency(clients, uploads);
  const row = (name: string, xs: number[]) => [name, percentile(xs, 50).toFixed(0), percentile(xs, 95).toFixed(0), Math.min(...xs).toFixed(0), Math.max(...xs).toFixed(0)];
  const overhead = percentile(e2e, 50) - percentile(fn, 50);
  const markdown = [
    `${uploads} uploads of a 1280x960 JPEG (after one warm-up), one at a time, to the stack \`make up\` runs (environments on demand: the warm-up upload starts them); the item is polled every ${POLL_MS} ms.`,
    '',
    table(['ms', 'p50', 'p95', 'min', 'max'], [row('end to end (PutObject returned -> item readable)', e2e), row('thumbnail function (item durationMs)', fn)]),
    '',
    `Local-service overhead (p50 end to end - p50 function): ${overhead.toFixed(0)} ms, target <= 150 ms: ${overhead <= 150 ? 'met' : 'MISSED'}. At p95: ${(percentile(e2e, 95) - percentile(fn, 95)).toFixed(0)} ms (a source that keeps the container from the mapping shows here first).`,
  ].join('\n');
  return { markdown };
}
