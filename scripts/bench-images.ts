// `make bench-images`: image sizes and cold starts only (part of `make bench`), into docs/benchmarks.md.
import { benchImageSection } from './bench/images';
import { writeSection } from './bench/markdown';

benchImageSection(Number(process.env.BENCH_RUNS ?? 5), 'make bench-images')
  .then((section) => {
    writeSection('Images and cold start', section);
    console.log('\nwrote docs/benchmarks.md');
  })
  .catch((error: unknown) => {
    console.error(`bench-images: ${(error as Error).message}`);
    process.exitCode = 1;
  });
