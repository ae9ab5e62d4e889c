// Per function image, its size next to the floor (node + the shared libraries it loads + sharp
// where used), and its cold start (docker run -> first response posted to the Runtime API) next to
// `node -e 0` in the same image, measured side by side in one run.
import { execFileSync } from 'node:child_process';
import { functionEnvironment } from '../../local-lambda/function-environment';
import { buildApp, scratchOutdir, synthesize } from '../../infra/app';
import type { CfnTemplate } from '../../local-lambda/template/template';
import { functionFolders } from '../../toolkit/function-folders';
import { imageOf, TEST_LABEL } from '../../toolkit/labels';
import { offlineCases, offlineFails } from '../../toolkit/offline-events';
import { startRuntimeApi } from '../../toolkit/runtime-api';
import { offlinePlan, planFunction } from '../../toolkit/template-plan';
import { formatSummary, summarize, type Summary } from './stats';

/** Each function's environment as the stack's template gives it (offline names: the events need no AWS). */
let plan: ReturnType<typeof offlinePlan> | undefined;
const environmentOf = (name: string, port: number) => {
  plan ??= offlinePlan(synthesize(buildApp({ images: {}, outdir: scratchOutdir() })) as unknown as CfnTemplate);
  return functionEnvironment(planFunction(plan, name), { region: 'us-east-1', endpointUrl: 'http://127.0.0.1:4566', runtimeApi: `127.0.0.1:${port}` });
};

/**
 * Size targets: the images as they were before they carried the Runtime Interface Emulator and a
 * shell for SAM (docs/benchmarks.md, 2026-11-24: 167.0 / 136.4 / 137.0 / 135.5 MB) plus 10 MB.
 */
const TARGET_MB: Record<string, number> = { thumbnail: 177.0, notify: 146.4, 'csv-import': 147.0, audit: 145.5 };
/** Cold start targets against bare node: sharp's function may take longer. */
const COLD_TARGET: Record<string, number> = { thumbnail: 1.5 };
const DEFAULT_COLD_TARGET = 1.3;

const fmt = (s: Summary) => formatSummary(s, 0);
const docker = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

/** Bytes of node, of the shared libraries and of node_modules (sharp) inside the image. */
function floorBytes(image: string): number {
  const script = `const fs=require('fs'),p=require('path');let n=0;const walk=(d)=>{let s;try{s=fs.lstatSync(d)}catch{return}if(s.isDirectory()){for(const e of fs.readdirSync(d))walk(p.join(d,e))}else if(s.isFile())n+=s.size};for(const d of ['/usr/local/bin/node','/lib','/lib64','/usr/lib','/usr/lib64','/var/task/node_modules'])walk(d);console.log(n)`;
  return Number(docker(['run', '--rm', '--entrypoint', '/usr/local/bin/node', image, '-e', script]));
}

async function coldStartMs(name: string): Promise<number> {
  const api = await startRuntimeApi(name);
  const env = Object.entries(environmentOf(name, api.port)).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const started = performance.now();
  const pending = api.runtime.invoke({ payload: Buffer.from(JSON.stringify(offlineCases[name]!.event)) });
  const id = docker(['run', '-d', '--read-only', '--tmpfs', '/tmp', '--user', '993:993', '--network', 'host', '--label', `${TEST_LABEL}=true`, ...env, imageOf(name)]);
  const result = await pending;
  const elapsed = performance.now() - started;
  docker(['rm', '-f', id]);
  api.close();
  // Up to the first answer, the one the function gives offline (the report's is an error by design).
  if (result.ok === offlineFails(name)) throw new Error(`${name}: cold start invocation answered ${JSON.stringify(result.ok ? 'a response' : result.error)}, not what it answers offline`);
  return elapsed;
}

function bareNodeMs(name: string): number {
  const started = performance.now();
  docker(['run', '--rm', '--read-only', '--network', 'host', '--entrypoint', '/usr/local/bin/node', imageOf(name), '-e', '0']);
  return performance.now() - started;
}


/** The "Images and cold start" section of docs/benchmarks.md, `runs` interleaved runs per image. */
export async function benchImageSection(runs: number, command: string): Promise<string> {
  const rows: string[] = [];
  for (const name of functionFolders()) {
    const image = imageOf(name);
    const size = Number(docker(['image', 'inspect', '-f', '{{.Size}}', image]));
    const floor = floorBytes(image);
    const cold: number[] = [];
    const bare: number[] = [];
    // Interleaved, so both see the same machine state.
    for (let i = 0; i < runs; i++) {
      bare.push(bareNodeMs(name));
      cold.push(await coldStartMs(name));
    }
    const target = TARGET_MB[name] ?? 150;
    const coldTarget = COLD_TARGET[name] ?? DEFAULT_COLD_TARGET;
    const coldS = summarize(cold);
    const bareS = summarize(bare);
    rows.push(
      `| ${name} | ${(size / 1e6).toFixed(1)} | ${(floor / 1e6).toFixed(1)} | ${(size / floor).toFixed(2)} | <= ${target} ${size / 1e6 <= target ? 'met' : 'MISSED'} | ${fmt(coldS)} | ${fmt(bareS)} | ${(coldS.median / bareS.median).toFixed(2)}x <= ${coldTarget}x ${coldS.median / bareS.median <= coldTarget ? 'met' : 'MISSED'} |`,
    );
    console.log(rows[rows.length - 1]);
  }
  const machine = `${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, ${execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim()}, Docker ${docker(['version', '-f', '{{.Server.Version}}'])}`;
  const section = [
    '## Images and cold start',
    '',
    `Command: \`${command}\` (${runs} runs each, median with min-max). Machine: ${machine}. Date: ${new Date().toISOString().slice(0, 10)}.`,
    'Size is the uncompressed image; the floor is node + the shared libraries in the image + sharp where used. Beyond the floor: the bundle, its compile cache, aws-lambda-ric, the Runtime Interface Emulator (9.3 MB) and busybox (1.9 MB). Size target: the image before the emulator and busybox + 10 MB.',
    'Cold start: from `docker run` of the read-only, non-root image to its first response posted to a Runtime API on 127.0.0.1;',
    'bare node: `docker run ... node -e 0` of the same image, interleaved with it.',
    '',
    '| image | size MB | floor MB | size/floor | size target | cold start ms | bare node ms | cold/bare |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  return section;
}
