// `make bench`: every figure beside a peer or a limit measured in the same run, on this machine.
// Prints each table as it is made and rewrites docs/benchmarks.md. Needs the stack up (`make bench`
// runs `make up` first), vipsthumbnail (libvips-tools) and ImageMagick (imagemagick).
//   BENCH_RUNS=3 BENCH_UPLOADS=100 BENCH_CSV_ROWS=200000 BENCH_CSV_RATIO_ROWS=10000 BENCH_CSV_BIG_MB=100
//   BENCH_PEER_WARM_CALLS=200 BENCH_PEER_COLD_CALLS=10 BENCH_THROUGHPUT_SECONDS=30 BENCH_DEV_SAVES=10 BENCH_API_CALLS=300
//   BENCH_BURST=60 BENCH_CPU_RUNS=3 BENCH_TELEMETRY_CALLS=300 BENCH_LONG_ROWS=1000000 [BENCH_LONG_TIMEOUT_SECONDS=<csv-import's timeout for the run>]
//   BENCH_ONLY="dev loop,local lambda service vs peers"   only these sections
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { destroyClients, isUnreachable, localClients } from '../../toolkit/clients';
import { benchApi } from './api';
import { benchCsvImport } from './csv-import';
import { benchImageSection } from './images';
import { benchDevLoop } from './dev-loop';
import { benchExecutionModel } from './execution-model';
import { benchLatency } from './latency';
import { benchPermissions } from './permissions';
import { benchPeers } from './peers';
import { BENCHMARKS_FILE, writeSection } from './markdown';
import { benchThumbnails, toolsPresent } from './thumbnails';
import { benchLongImport } from './long-import';
import { benchTelemetry } from './telemetry';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const RUNS = env('BENCH_RUNS', 3);
const UPLOADS = env('BENCH_UPLOADS', 100);
/** BENCH_ONLY="dev loop,end-to-end latency": run only these sections (by title, any case). */
const ONLY = process.env.BENCH_ONLY?.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);

function machine(): string {
  const docker = execFileSync('docker', ['version', '-f', '{{.Server.Version}}'], { encoding: 'utf8' }).trim();
  return `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, Docker ${docker}`;
}

interface Section {
  title: string;
  /** Prints its table as it goes; returns the markdown of its docs/benchmarks.md section, without the heading. */
  run: () => Promise<string>;
  /** The section writes docs/benchmarks.md itself, heading included. */
  writesOwnHeading?: boolean;
}

async function main(): Promise<void> {
  const missing = toolsPresent();
  if (missing) throw new Error(missing);
  const clients = localClients();
  const started = Date.now();
  // The command as run: make bench with the sizes it was given (BENCH_*).
  const sizes = Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_')).map(([k, v = '']) => `${k}=${/\s/.test(v) ? `'${v}'` : v}`).sort().join(' ');
  const header = (title: string) => `## ${title}\n\nCommand: \`${sizes ? `${sizes} ` : ''}make bench\`. Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.\n`;
  const sections: Section[] = [
    { title: 'Thumbnail throughput', run: async () => (await benchThumbnails(RUNS)).markdown },
    {
      title: 'CSV import',
      run: async () =>
        (
          await benchCsvImport(clients, {
            rows: env('BENCH_CSV_ROWS', 200_000),
            ratioRows: env('BENCH_CSV_RATIO_ROWS', 10_000),
            naiveRows: env('BENCH_CSV_NAIVE_ROWS', 2_000),
            runs: RUNS,
            bigMb: env('BENCH_CSV_BIG_MB', 100),
          })
        ).markdown,
    },
    {
      title: 'Imports across invocations',
      run: async () => (await benchLongImport(clients, { rows: env('BENCH_LONG_ROWS', 1_000_000), ...(process.env.BENCH_LONG_TIMEOUT_SECONDS && { timeoutSeconds: env('BENCH_LONG_TIMEOUT_SECONDS', 300) }) })).markdown,
    },
    { title: 'End-to-end latency', run: async () => (await benchLatency(clients, UPLOADS)).markdown },
    { title: 'Permission check', run: async () => (await benchPermissions(clients, UPLOADS)).markdown },
    { title: 'Logging and metrics', run: async () => (await benchTelemetry(env('BENCH_TELEMETRY_CALLS', 300))).markdown },
    { title: 'HTTP API', run: async () => (await benchApi(env('BENCH_API_CALLS', 300))).markdown },
    { title: 'Images and cold start', run: () => benchImageSection(RUNS, 'make bench'), writesOwnHeading: true },
    {
      title: 'Local Lambda service vs peers',
      run: async () =>
        (
          await benchPeers({
            warmCalls: env('BENCH_PEER_WARM_CALLS', 200),
            coldCalls: env('BENCH_PEER_COLD_CALLS', 10),
            throughputSeconds: env('BENCH_THROUGHPUT_SECONDS', 30),
          })
        ).markdown,
    },
    {
      title: 'Execution model',
      run: async () =>
        (
          await benchExecutionModel(clients, {
            coldCalls: env('BENCH_PEER_COLD_CALLS', 10),
            warmCalls: env('BENCH_PEER_WARM_CALLS', 200),
            burst: env('BENCH_BURST', 60),
            cpuRuns: env('BENCH_CPU_RUNS', 3),
          })
        ).markdown,
    },
    { title: 'Dev loop', run: async () => (await benchDevLoop(env('BENCH_DEV_SAVES', 10))).markdown },
  ].filter((s) => !ONLY || ONLY.includes(s.title.toLowerCase()));
  // Every section runs, whatever happened to the ones before it: a failure is reported with its
  // reason at the end (and makes the exit status 1); a missed target is only a line in a table.
  const failures: Array<{ title: string; reason: string }> = [];
  try {
    for (const section of sections) {
      console.log(`\n==> ${section.title}`);
      const sectionStarted = Date.now();
      try {
        const markdown = await section.run();
        if (section.writesOwnHeading) writeSection(section.title, markdown);
        else {
          console.log(markdown);
          writeSection(section.title, `${header(section.title)}\n${markdown}`);
        }
        console.log(`    (${section.title}: ${((Date.now() - sectionStarted) / 1000).toFixed(0)} s)`);
      } catch (error) {
        const reason = isUnreachable(error) ? `LocalStack is not answering at ${clients.endpoint}: run make up` : (error as Error).message;
        console.log(`    ${section.title} FAILED: ${reason}`);
        failures.push({ title: section.title, reason });
      }
    }
  } finally {
    destroyClients(clients);
  }
  console.log(`\nbench: done in ${((Date.now() - started) / 60_000).toFixed(1)} min; wrote ${BENCHMARKS_FILE}`);
  for (const section of sections) {
    const failure = failures.find((f) => f.title === section.title);
    console.log(`  ${failure ? 'FAILED' : 'ok    '} ${section.title}${failure ? `: ${failure.reason.split('\n')[0]}` : ''}`);
  }
  if (failures.length > 0) {
    console.error(`bench: ${failures.length} of ${sections.length} sections failed`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
});
