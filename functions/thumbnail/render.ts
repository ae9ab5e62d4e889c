// The sharp part of the thumbnail function: decode once, auto-orient, resize, strip, encode.
import type { Metadata, OutputInfo, Sharp } from 'sharp';
import { RejectedInput, errorMessage } from '#shared/errors';
import type { OutputFormat } from './config';
import { planWidths, uprightSize } from './resize-plan';

type SharpFactory = typeof import('sharp').default;
let loading: Promise<SharpFactory> | undefined;

/**
 * sharp (and its 20 MB of libvips) loads with the first image, not at cold start: the init phase,
 * which Lambda bills and every new container waits for, stays short.
 */
function loadSharp(): Promise<SharpFactory> {
  loading ??= import('sharp').then((module) => {
    // Its CommonJS export arrives as `default` in ES modules (the bundle), as the module itself under jest.
    const sharp = ((module as { default?: SharpFactory }).default ?? module) as unknown as SharpFactory;
    // Lambda reuses warm containers: libvips' operation cache only grows memory between invocations.
    sharp.cache(false);
    return sharp;
  });
  return loading;
}

/** Formats the prebuilt libvips decodes that make sense as photo uploads. */
const SUPPORTED_INPUTS = new Set(['jpeg', 'png', 'webp', 'gif', 'avif', 'heif', 'tiff']);

export interface RenderOptions {
  widths: readonly number[];
  format: OutputFormat;
  maxInputPixels: number;
}

export interface RenderedImage {
  width: number;
  height: number;
  data: Buffer;
}

export interface RenderResult {
  source: { format: string; width: number; height: number };
  outputs: RenderedImage[];
}

function encoder(image: Sharp, format: OutputFormat): Sharp {
  switch (format) {
    case 'webp':
      return image.webp({ quality: 80 });
    case 'jpeg':
      return image.jpeg({ quality: 80, mozjpeg: true });
    case 'avif':
      return image.avif({ quality: 50, effort: 4 });
  }
}

/**
 * Renders every planned width from one decode. Bad input throws RejectedInput with a reason a
 * person can read; nothing else is expected to throw.
 */
export async function renderThumbnails(input: Buffer, options: RenderOptions): Promise<RenderResult> {
  if (input.length === 0) throw new RejectedInput('empty object (0 bytes): not an image');
  const sharp = await loadSharp();

  // Header only: no pixel is decoded before the format and the pixel count are known to be safe.
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new RejectedInput(`not a decodable image (${errorMessage(error)})`);
  }
  // HEIC photos (iPhones) are HEIF with HEVC inside; the prebuilt libvips reads the header but has
  // no HEVC decoder (only AV1, i.e. AVIF), so say that rather than "corrupt".
  if (meta.format === 'heif' && meta.compression === 'hevc') {
    throw new RejectedInput('HEIC (HEVC-coded HEIF) cannot be decoded: the bundled libvips has no HEVC decoder; convert it to JPEG, PNG, WebP or AVIF');
  }
  if (!meta.format || !SUPPORTED_INPUTS.has(meta.format)) {
    throw new RejectedInput(`unsupported image format '${meta.format ?? 'unknown'}' (supported: ${[...SUPPORTED_INPUTS].join(', ')})`);
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > options.maxInputPixels) {
    throw new RejectedInput(
      `image is ${meta.width}x${meta.height} = ${pixels} pixels, above the limit of ${options.maxInputPixels} (MAX_INPUT_PIXELS): refused as a possible decompression bomb`,
    );
  }

  const upright = uprightSize(meta.width ?? 0, meta.height ?? 0, meta.orientation);
  const widths = planWidths(upright.width, options.widths);
  const largest = widths[widths.length - 1] ?? upright.width;

  // One decode, shrunk on load to the largest width (JPEG/WebP decode at reduced scale), upright.
  let base: { data: Buffer; info: OutputInfo };
  try {
    base = await sharp(input, { limitInputPixels: options.maxInputPixels, failOn: 'truncated' })
      .rotate()
      .resize({ width: largest, withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new RejectedInput(`corrupt or truncated ${meta.format} image (${errorMessage(error)})`);
  }
  const raw = { width: base.info.width, height: base.info.height, channels: base.info.channels };

  const outputs = await Promise.all(
    widths.map(async (width) => {
      // Metadata is not copied: sharp strips EXIF/ICC/XMP unless asked to keep them.
      let image = sharp(base.data, { raw });
      if (width !== raw.width) image = image.resize({ width });
      const { data, info } = await encoder(image, options.format).toBuffer({ resolveWithObject: true });
      return { width: info.width, height: info.height, data };
    }),
  );
  return { source: { format: meta.format, width: upright.width, height: upright.height }, outputs };
}
