// `make dev`: the stack as `make up` makes it, but each function container runs its bundle from
// .cache/dev/<folder>/ (the Docker proxy mounts it: docker-compose.dev.yml), which esbuild rebuilds
// on every save; after a rebuild the local Lambda service retires the environments of the
// functions built from that folder, so the next event starts one on the new code. One line per reload, with
// its time. Ctrl-C stops watching; the stack stays up (make down).
//   DEV_BUNDLES=$PWD/.cache/dev npx tsx scripts/dev.ts   build, bring the stack up in dev mode, watch
//   npx tsx scripts/dev.ts --build                      only write the bundles once
import { spawnSync } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { context, type BuildContext, type Plugin } from 'esbuild';
import { bundleDashboard, bundleOptions } from '../docker/bundle.mjs';
import { functionFolders } from '../toolkit/function-folders';
import { LAMBDA_API_URL } from '../toolkit/ports';
import { readStack } from '../toolkit/stack';

const LAMBDA_API = process.env.LAMBDA_API_URL ?? LAMBDA_API_URL;
export const COMPOSE_FILE = 'docker-compose.yml';
export const DEV_COMPOSE_FILE = 'docker-compose.dev.yml';
/** Where a function folder's dev bundle is written (and mounted from). */
export const devBundleDir = (folder: string): string => `.cache/dev/${folder}`;

/** Asks the service to load a function's new bundle: its environments are retired (busy ones once done); the next event starts one on the new code. */
export async function reloadFunction(name: string): Promise<{ restarted: number }> {
  const res = await fetch(`${LAMBDA_API}/dev/reload/${name}`, { method: 'POST' });
  if (!res.ok) throw new Error(`the local Lambda service refused the reload of ${name} (${res.status}): is the stack up in dev mode (make dev)?`);
  return (await res.json()) as { restarted: number };
}

/** Reloads every function built from `folder` (one folder may run several functions). */
export async function reload(folder: string): Promise<{ restarted: number }> {
  const names = (await readStack()).functions.filter((f) => f.image.replace(/:[^:/]*$/, '').split('/').pop() === folder && !f.command).map((f) => f.name);
  const results = await Promise.all(names.map((name) => reloadFunction(name)));
  return { restarted: results.reduce((n, r) => n + r.restarted, 0) };
}

/**
 * One esbuild context per function, in watch mode; `onBundle` hears of every rebuild after the
 * first. `entryOf` bundles another entry into a function's slot (make bench measures the loop so).
 */
export async function watchFunctions(
  names: string[],
  onBundle: (fn: string, ms: number, errors: number) => void,
  entryOf?: (fn: string) => string,
): Promise<BuildContext[]> {
  return Promise.all(
    names.map(async (fn) => {
      let first = true;
      let started = 0;
      let firstBuilt!: () => void;
      const built = new Promise<void>((resolve) => (firstBuilt = resolve));
      const announce: Plugin = {
        name: 'announce',
        setup(build) {
          build.onStart(() => {
            started = performance.now();
          });
          build.onEnd((result) => {
            if (!first) onBundle(fn, performance.now() - started, result.errors.length);
            else firstBuilt();
            first = false;
          });
        },
      };
      const options = bundleOptions(fn, devBundleDir(fn), { sourcemap: true });
      const ctx = await context({ ...options, ...(entryOf && { entryPoints: { handler: entryOf(fn) } }), plugins: [announce] });
      // watch() returns before its first build ends: a container started now could load the
      // bundle of an earlier session and keep it warm. The caller gets the context once it is written.
      await ctx.watch();
      await built;
      return ctx;
    }),
  );
}

async function buildOnce(names: string[]): Promise<void> {
  const contexts = await Promise.all(names.map((fn) => context(bundleOptions(fn, devBundleDir(fn), { sourcemap: true }))));
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  await Promise.all(names.map((fn) => bundleDashboard(fn, devBundleDir(fn))));
}

/** A function's dashboard page (functions/<fn>/dashboard/): rebuilt on save, then the function reloaded (it reads the page at cold start). */
function watchDashboards(names: string[], onChange: (fn: string) => Promise<void>): void {
  for (const fn of names.filter((n) => existsSync(`functions/${n}/dashboard`))) {
    let timer: NodeJS.Timeout | undefined;
    watch(`functions/${fn}/dashboard`, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void onChange(fn), 100);
    });
  }
}

async function main(): Promise<void> {
  const names = functionFolders();
  await buildOnce(names);
  if (process.argv.includes('--build')) return;
  if (!process.env.DEV_BUNDLES) throw new Error('DEV_BUNDLES must be the absolute path of .cache/dev (make dev sets it)');
  const up = spawnSync('scripts/up.sh', { stdio: 'inherit', env: { ...process.env, COMPOSE_FILE: `${COMPOSE_FILE}:${DEV_COMPOSE_FILE}` } });
  if (up.status !== 0) process.exit(up.status ?? 1);

  // Saves come in bursts (an editor writes, a formatter rewrites): one reload at a time per function.
  const pending = new Map<string, Promise<void>>();
  await watchFunctions(names, (fn, bundleMs, errors) => {
    if (errors > 0) return void console.log(`${new Date().toLocaleTimeString()}  ${fn}: the bundle has errors (above); still running the previous code`);
    const saved = performance.now() - bundleMs;
    const run = (pending.get(fn) ?? Promise.resolve()).then(async () => {
      try {
        const { restarted } = await reload(fn);
        console.log(`${new Date().toLocaleTimeString()}  reloaded ${fn} in ${(performance.now() - saved).toFixed(0)} ms (bundle ${bundleMs.toFixed(0)} ms, ${restarted} environment${restarted === 1 ? '' : 's'} retired; the next event starts one)`);
      } catch (error) {
        console.log(`${new Date().toLocaleTimeString()}  ${fn}: ${(error as Error).message}`);
      }
    });
    pending.set(fn, run);
  });
  watchDashboards(names, async (fn) => {
    const started = performance.now();
    try {
      await bundleDashboard(fn, devBundleDir(fn));
      await reload(fn);
      console.log(`${new Date().toLocaleTimeString()}  rebuilt ${fn}'s dashboard and reloaded ${fn} in ${(performance.now() - started).toFixed(0)} ms`);
    } catch (error) {
      console.log(`${new Date().toLocaleTimeString()}  ${fn}'s dashboard: ${(error as Error).message}`);
    }
  });
  console.log(`\nmake dev: watching ${names.map((n) => `functions/${n}/`).join(', ')} and functions/shared/; save a file and the next event runs the new code. Ctrl-C stops watching (make down stops the stack).`);
}

if (process.argv[1]?.endsWith('dev.ts')) {
  main().catch((error: unknown) => {
    console.error(`dev: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
