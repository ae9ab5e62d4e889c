// Which thumbnails to make for an image, and where they go: pure, no sharp.
import type { OutputFormat } from './config';

export const CONTENT_TYPES: Record<OutputFormat, string> = { webp: 'image/webp', jpeg: 'image/jpeg', avif: 'image/avif' };
const EXTENSIONS: Record<OutputFormat, string> = { webp: 'webp', jpeg: 'jpg', avif: 'avif' };

/**
 * The output widths for a source `sourceWidth` pixels wide: every configured width, but never
 * upscaled (a width above the source becomes the source width), each width once, ascending.
 */
export function planWidths(sourceWidth: number, configured: readonly number[]): number[] {
  return [...new Set(configured.map((w) => Math.min(w, sourceWidth)))].sort((a, b) => a - b);
}

/** Deterministic output key: the source key, then `<width>.<ext>` (a redelivery overwrites, never adds). */
export function thumbnailKey(sourceKey: string, width: number, format: OutputFormat): string {
  return `${sourceKey}/${width}.${EXTENSIONS[format]}`;
}

/** EXIF orientations 5-8 rotate by 90 or 270 degrees: the upright image has width and height swapped. */
export function uprightSize(width: number, height: number, orientation: number | undefined): { width: number; height: number } {
  return orientation !== undefined && orientation >= 5 && orientation <= 8 ? { width: height, height: width } : { width, height };
}
