import { z } from 'zod';
import { positiveInt, requiredString } from '#shared/config';

export const OUTPUT_FORMATS = ['webp', 'jpeg', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const widthList = z
  .string({ error: 'missing' })
  .transform((raw) => raw.split(',').map((w) => w.trim()))
  .refine((parts) => parts.length > 0 && parts.every((w) => /^\d+$/.test(w) && Number(w) > 0 && Number(w) <= 16384), {
    message: 'must be a comma-separated list of widths between 1 and 16384, e.g. 128,512,1024',
  })
  .transform((parts) => [...new Set(parts.map(Number))].sort((a, b) => a - b));

export const thumbnailConfigSchema = z.object({
  PROCESSING_LOG_TABLE: requiredString,
  THUMBNAIL_BUCKET: requiredString,
  THUMBNAIL_WIDTHS: widthList,
  THUMBNAIL_FORMAT: z.enum(OUTPUT_FORMATS, { error: `must be one of ${OUTPUT_FORMATS.join(', ')}` }).default('webp'),
  /** Decompression-bomb guard: images with more pixels than this are rejected before decoding. */
  MAX_INPUT_PIXELS: positiveInt.default(50_000_000),
  /** Uploads larger than this are rejected without being read whole. */
  MAX_INPUT_BYTES: positiveInt.default(100 * 1024 * 1024),
});

export type ThumbnailConfig = z.infer<typeof thumbnailConfigSchema>;
