// Bundles one function (functions/<name>/handler.ts) or the local Lambda service (local-lambda/main.ts)
// into a single ESM file with esbuild. sharp stays external: its native binaries are installed for
// the target platform by the Dockerfile. Writes <out>/needs-sharp when the bundle imports sharp.
// A function with a dashboard/ folder (api) gets its page too: app.ts bundled for browsers, the
// HTML and CSS copied, all under <out>/dashboard/ beside the handler.
// The same options serve `make dev`, which rebuilds the functions on save (scripts/dev.ts).
//   node docker/bundle.mjs <function|local-lambda> <out-dir>
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The entry points of a target: the local Lambda service ships two programs, a function one. */
export function entriesOf(name) {
  return name === 'local-lambda' ? { main: 'local-lambda/main.ts', 'docker-proxy': 'local-lambda/docker-proxy.ts' } : { handler: `functions/${name}/handler.ts` };
}

/**
 * esbuild's options for a target: one ESM file per entry, for Node 22, sharp left outside. Source
 * maps only when asked (make dev; `make build SOURCEMAPS=1`): names survive minification, so stack
 * traces stay readable without them, and images stay ~1.5 MB smaller.
 */
export function bundleOptions(name, outdir, { sourcemap = false } = {}) {
  return {
    entryPoints: entriesOf(name),
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // The SDK's ES modules shake better than its CommonJS builds: about 250 KB less per function.
    mainFields: ['module', 'main'],
    // Maps without the sources: stack traces still map to file and line, at a third of the size.
    sourcemap,
    sourcesContent: false,
    minify: true,
    keepNames: true,
    legalComments: 'none',
    external: ['sharp'],
    metafile: true,
    // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  };
}

/** esbuild's options for a function's dashboard script (absent without functions/<name>/dashboard/). */
export function dashboardOptions(name, outdir) {
  const entry = `functions/${name}/dashboard/app.ts`;
  if (!existsSync(entry)) return undefined;
  return {
    entryPoints: { app: entry },
    outdir: `${outdir}/dashboard`,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/** Bundles the dashboard script and copies its page; returns the files written (none without a dashboard). */
export async function bundleDashboard(name, outdir) {
  const options = dashboardOptions(name, outdir);
  if (!options) return [];
  await build(options);
  mkdirSync(`${outdir}/dashboard`, { recursive: true });
  for (const file of ['index.html', 'app.css']) copyFileSync(`functions/${name}/dashboard/${file}`, `${outdir}/dashboard/${file}`);
  return ['index.html', 'app.js', 'app.css'].map((f) => `${outdir}/dashboard/${f}`);
}

async function main() {
  const [name, outdir] = process.argv.slice(2);
  if (!name || !outdir) {
    console.error('usage: node docker/bundle.mjs <function|local-lambda> <out-dir>');
    process.exit(2);
  }
  for (const entry of Object.values(entriesOf(name))) {
    if (!existsSync(entry)) {
      console.error(`bundle: ${entry} does not exist: is "${name}" a folder under functions/ with a handler.ts?`);
      process.exit(1);
    }
  }
  const result = await build(bundleOptions(name, outdir, { sourcemap: process.env.SOURCEMAPS === '1' }));
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports);
  if (imports.some((i) => i.external && i.path === 'sharp')) writeFileSync(`${outdir}/needs-sharp`, '');
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (file.endsWith('.mjs')) console.log(`bundled ${output.entryPoint} -> ${file} (${(output.bytes / 1024).toFixed(0)} KiB)`);
  }
  const page = await bundleDashboard(name, outdir);
  if (page.length > 0) console.log(`bundled the dashboard -> ${outdir}/dashboard/ (${page.map((f) => f.split('/').pop()).join(', ')})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
