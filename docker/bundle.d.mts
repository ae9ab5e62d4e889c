// Types of docker/bundle.mjs for the TypeScript that imports it (scripts/dev.ts).
import type { BuildOptions } from 'esbuild';
export function entriesOf(name: string): Record<string, string>;
export function bundleOptions(name: string, outdir: string, options?: { sourcemap?: boolean }): BuildOptions & { metafile: true };
export function dashboardOptions(name: string, outdir: string): BuildOptions | undefined;
export function bundleDashboard(name: string, outdir: string): Promise<string[]>;
