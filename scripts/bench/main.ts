// `make bench`: every figure beside a peer or a limit measured in the same run, on this machine.
// Prints each table as it is made and rewrites docs/benchmarks.md. Needs the stack up (`make bench`
// runs `make up` first), vipsthumbnail (libvips-tools) and ImageMagick (imagemagick).
//   BENCH_RUNS=3 BENCH_UPLOADS=100 BENCH_CSV_ROWS=200000 BENCH_CSV_RATIO_ROWS=10000 BENCH_CSV_BIG_MB=100
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { destroyClients, isUnreachable, localClients } from '../local-clients';
import { benchCsvImport } from './csv-import';
import { benchImageSection } from './images';
import { benchLatency } from './latency';
import { BENCHMARKS_FILE, writeSection } from './markdown';
import { benchThumbnails, toolsPresent } from './thumbnails';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const RUNS = env('BENCH_RUNS', 3);
const UPLOADS = env('BENCH_UPLOADS', 100);

function machine(): string {
  const docker = execFileSync('docker', ['version', '-f', '{{.Server.Version}}'], { encoding: 'utf8' }).trim();
  return `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, Docker ${docker}`;
}

async function main(): Promise<void> {
  const missing = toolsPresent();
  if (missing) throw new Error(missing);
  const clients = localClients();
  const started = Date.now();
  const header = (title: string) => `## ${title}\n\nCommand: \`make bench\`. Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.\n`;
  try {
    console.log(`==> thumbnail throughput (${RUNS} runs)`);
    const thumbs = await benchThumbnails(RUNS);
    console.log(thumbs.markdown);
    writeSection('Thumbnail throughput', `${header('Thumbnail throughput')}\n${thumbs.markdown}`);

    console.log('\n==> CSV import into LocalStack DynamoDB');
    const csv = await benchCsvImport(clients, {
      rows: env('BENCH_CSV_ROWS', 200_000),
      ratioRows: env('BENCH_CSV_RATIO_ROWS', 10_000),
      naiveRows: env('BENCH_CSV_NAIVE_ROWS', 2_000),
      runs: RUNS,
      bigMb: env('BENCH_CSV_BIG_MB', 100),
    });
    console.log(csv.markdown);
    writeSection('CSV import', `${header('CSV import')}\n${csv.markdown}`);

    console.log(`\n==> end-to-end latency (${UPLOADS} uploads)`);
    const latency = await benchLatency(clients, UPLOADS);
    console.log(latency.markdown);
    writeSection('End-to-end latency', `${header('End-to-end latency')}\n${latency.markdown}`);

    console.log(`\n==> images and cold start (${RUNS} runs)`);
    const images = await benchImageSection(RUNS, 'make bench');
    writeSection('Images and cold start', images);
  } catch (error) {
    if (isUnreachable(error)) throw new Error(`LocalStack is not answering at ${clients.endpoint}: run make up`);
    throw error;
  } finally {
    destroyClients(clients);
  }
  console.log(`\nbench: done in ${((Date.now() - started) / 60_000).toFixed(1)} min; wrote ${BENCHMARKS_FILE}`);
}

main().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
});
