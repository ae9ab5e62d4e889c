// "Permission check": what running each function as its role costs. The same uploads end to end
// with the check off (IAM_MODE=off: functions reach LocalStack directly) and on (enforce), side by
// side in one run, and the check's own time per AWS call as the service measures it (request in ->
// decision: signature, mapping, evaluation; the hop to LocalStack comes on top).
import { LAMBDA_API_URL } from '../../toolkit/ports';
import type { LocalClients } from '../../toolkit/clients';
import { compose } from '../../toolkit/compose';
import { eventually } from '../../toolkit/eventually';
import { readStack } from '../../toolkit/stack';
import { COMPOSE_FILE } from '../dev';
import { measureLatency } from './latency';
import { percentile, table } from './stats';

interface IamHealth {
  mode: string;
  checked: number;
  denied: number;
  checkMs: { samples: number; p50: number; p95: number };
}

const iamHealth = async (): Promise<IamHealth> => ((await (await fetch(`${LAMBDA_API_URL}/health`)).json()) as { iam: IamHealth }).iam;

/** The service recreated with IAM_MODE=`mode` (compose sees the changed variable), deployed again. */
async function serviceWith(mode: 'off' | 'enforce'): Promise<void> {
  compose(['up', '-d', '--no-deps', 'local-lambda'], { files: COMPOSE_FILE, env: { ...process.env, IAM_MODE: mode } });
  await eventually(async () => ((await iamHealth()).mode === mode && (await readStack()) ? true : undefined), `the local Lambda service with IAM_MODE=${mode}`, 120_000, 500);
}

export async function benchPermissions(clients: LocalClients, uploads: number): Promise<{ markdown: string }> {
  const runs: Record<string, { e2e: number[]; fn: number[] }> = {};
  let health: IamHealth;
  try {
    await serviceWith('off');
    runs.off = await measureLatency(clients, uploads);
  } finally {
    await serviceWith('enforce');
  }
  const before = await iamHealth();
  runs.enforce = await measureLatency(clients, uploads);
  health = await iamHealth();
  const calls = (health.checked - before.checked) / (uploads + 1);
  const p = (xs: number[], q: number) => percentile(xs, q).toFixed(0);
  const overhead = (run: { e2e: number[]; fn: number[] }) => (percentile(run.e2e, 50) - percentile(run.fn, 50)).toFixed(0);
  const added = percentile(runs.enforce!.e2e, 50) - percentile(runs.off!.e2e, 50);
  return {
    markdown: [
      `${uploads} uploads of a 1280x960 JPEG end to end (as in End-to-end latency), first with IAM_MODE=off, then with the check on (enforce), on the same stack; the service recreated between them.`,
      '',
      table(
        ['ms', 'end to end p50', 'end to end p95', 'function p50', 'overhead p50 (e2e - function)'],
        [
          ['check off', p(runs.off!.e2e, 50), p(runs.off!.e2e, 95), p(runs.off!.fn, 50), overhead(runs.off!)],
          ['check on', p(runs.enforce!.e2e, 50), p(runs.enforce!.e2e, 95), p(runs.enforce!.fn, 50), overhead(runs.enforce!)],
        ],
      ),
      '',
      `The check per AWS call (the service's measure over its last ${health.checkMs.samples} checks, request in -> decision): p50 ${health.checkMs.p50} ms, p95 ${health.checkMs.p95} ms; ${calls.toFixed(1)} checked calls per upload (thumbnail and notify), ${health.denied} denied.`,
      '',
      `Added end to end by the check at p50: ${added.toFixed(0)} ms.`,
    ].join('\n'),
  };
}
