// Thumbnail throughput, three widths per image, on the same machine in one run: our core
// (renderThumbnails, exactly what the function runs) vs vipsthumbnail (libvips' own CLI: the
// practical limit) vs ImageMagick convert (the common peer). All write WebP at quality 80 with
// metadata stripped and auto-orientation, one image at a time, each tool free to use every core.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { renderThumbnails } from '../../functions/thumbnail/render';
import { formatSummary, summarize, table, verdict, type Summary } from './stats';

const WIDTHS = [128, 512, 1024];

/** A photo-like JPEG: smooth gradients with grain, which compress like a real photo (not a flat fill). */
async function photoLike(width: number, height: number, seed: number): Promise<Buffer> {
  const noise = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .blur(2 + (seed % 3))
    .raw()
    .toBuffer();
  const gradient = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#${(0x3366aa + seed * 0x1f2f3f).toString(16).slice(-6)}"/><stop offset="1" stop-color="#f0c080"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/></svg>`,
  );
  return sharp(noise, { raw: { width, height, channels: 3 } })
    .composite([{ input: await sharp(gradient).png().toBuffer(), blend: 'overlay' }])
    .jpeg({ quality: 88 })
    .toBuffer();
}

export interface BenchImage {
  name: string;
  file: string;
  megapixels: number;
}

export async function benchImages(dir: string): Promise<BenchImage[]> {
  const specs: Array<[string, number, number]> = [
    ['12mp-a', 4000, 3000],
    ['12mp-b', 3000, 4000],
    ['24mp-a', 6000, 4000],
    ['24mp-b', 4000, 6000],
  ];
  const images: BenchImage[] = [{ name: 'samples/photo.jpg', file: 'samples/photo.jpg', megapixels: 0 }];
  for (const [i, [name, w, h]] of specs.entries()) {
    const file = join(dir, `${name}.jpg`);
    writeFileSync(file, await photoLike(w, h, i));
    images.push({ name, file, megapixels: (w * h) / 1e6 });
  }
  const sample = await sharp('samples/photo.jpg').metadata();
  images[0]!.megapixels = (sample.width! * sample.height!) / 1e6;
  return images;
}

type Tool = (file: string, out: string) => Promise<void>;

const ours: Tool = async (file) => {
  const result = await renderThumbnails(readFileSync(file), { widths: WIDTHS, format: 'webp', maxInputPixels: 50_000_000 });
  if (result.outputs.length !== WIDTHS.length) throw new Error(`our core made ${result.outputs.length} thumbnails of ${file}`);
};

// One call per width: vipsthumbnail takes one size per run (it shrinks on load for each).
const vipsthumbnail: Tool = async (file, out) => {
  for (const w of WIDTHS) execFileSync('vipsthumbnail', [file, '--size', `${w}x`, '-o', join(out, `%s-${w}.webp[Q=80,strip]`)]);
};

// The bare floor: only the largest width, one decode, no other work.
const vipsLargestOnly: Tool = async (file, out) => {
  execFileSync('vipsthumbnail', [file, '--size', `${WIDTHS.at(-1)}x`, '-o', join(out, `%s-largest.webp[Q=80,strip]`)]);
};

// One call for all widths, from one decode, the way a peer script usually does it.
const imagemagick: Tool = async (file, out) => {
  const args = [file, '-auto-orient', '-strip', '-quality', '80'];
  for (const w of WIDTHS.slice(1).reverse()) args.push('(', '+clone', '-resize', `${w}x`, '-write', join(out, `im-${w}.webp`), '+delete', ')');
  execFileSync('convert', [...args, '-resize', `${WIDTHS[0]}x`, join(out, `im-${WIDTHS[0]}.webp`)]);
};

export function toolsPresent(): string | undefined {
  for (const [tool, pkg] of [['vipsthumbnail', 'libvips-tools'], ['convert', 'imagemagick']] as const) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
      if (tool === 'convert' && !execFileSync('convert', ['-version'], { encoding: 'utf8' }).includes('ImageMagick')) throw new Error();
    } catch {
      return `${tool} is missing: apt-get install ${pkg}`;
    }
  }
  return undefined;
}

/** Images per second over the whole set, one figure per run. */
async function throughput(tool: Tool, images: BenchImage[], out: string): Promise<number> {
  const started = performance.now();
  for (const image of images) await tool(image.file, out);
  return images.length / ((performance.now() - started) / 1000);
}

export async function benchThumbnails(runs: number): Promise<{ markdown: string; ratios: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-thumbs-'));
  const out = join(dir, 'out');
  mkdirSync(out);
  const images = await benchImages(dir);
  const tools: Record<string, Tool> = { ours, vipsthumbnail, vipsLargestOnly, imagemagick };
  const results: Record<string, number[]> = Object.fromEntries(Object.keys(tools).map((n) => [n, []]));
  await ours(images[0]!.file, out); // warm up sharp's first load
  for (let run = 0; run < runs; run++) {
    // Interleaved, so that every tool sees the same machine state.
    for (const [name, tool] of Object.entries(tools)) results[name]!.push(await throughput(tool, images, out));
    console.log(`  thumbnails run ${run + 1}/${runs}: ${Object.entries(results).map(([n, r]) => `${n} ${r.at(-1)!.toFixed(2)}/s`).join(', ')}`);
  }
  const s: Record<string, Summary> = Object.fromEntries(Object.entries(results).map(([n, r]) => [n, summarize(r)]));
  const vsVips = s.ours!.median / s.vipsthumbnail!.median;
  const vsIm = s.ours!.median / s.imagemagick!.median;
  const vsFloor = s.ours!.median / s.vipsLargestOnly!.median;
  const versions = `sharp ${sharp.versions.sharp} with libvips ${sharp.versions.vips}; ${execFileSync('vipsthumbnail', ['--vips-version'], { encoding: 'utf8' }).trim()} (vipsthumbnail); ${execFileSync('convert', ['-version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/^Version: /, '').replace(/ https?:\S+/, '')}`;
  const markdown = [
    `Versions: ${versions}. All on the host, one image at a time, each free to use every core.`,
    `Images: ${images.map((i) => `${i.name} (${i.megapixels.toFixed(1)} MP)`).join(', ')}; widths ${WIDTHS.join(', ')} as WebP q80, stripped, auto-oriented. Images/s over the whole set, ${runs} runs, median (min-max).`,
    '',
    table(
      ['tool', 'images/s', 'ours vs it'],
      [
        ['ours (renderThumbnails, sharp)', formatSummary(s.ours!, 2), '-'],
        ['vipsthumbnail (libvips CLI, one run per width)', formatSummary(s.vipsthumbnail!, 2), verdict(vsVips, 0.8)],
        ['vipsthumbnail, largest width only (1 decode, 1 of the 3 outputs)', formatSummary(s.vipsLargestOnly!, 2), `${vsFloor.toFixed(2)}x (floor, no target)`],
        ['ImageMagick convert (one run, all widths)', formatSummary(s.imagemagick!, 2), verdict(vsIm, 3)],
      ],
    ),
  ].join('\n');
  return { markdown, ratios: { vsVips, vsIm } };
}
