// What a browser may upload, and where: the pure rules behind POST /uploads. The key is made here,
// never taken from the client (a client cannot overwrite another upload or write outside images/
// and imports/<data set>/), and the size and content type become conditions of the presigned POST
// that S3 itself enforces.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const IMAGE_TYPES: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
  'image/tiff': 'tiff',
  'image/heic': 'heic',
  'image/heif': 'heif',
};
const EXTENSION_TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif', tif: 'image/tiff', tiff: 'image/tiff', heic: 'image/heic', heif: 'image/heif' };
/** What browsers call a .csv file (Windows says Excel, some say nothing): all stored as text/csv. */
const CSV_TYPES = new Set(['text/csv', 'application/csv', 'application/vnd.ms-excel', 'text/plain', 'application/octet-stream', '']);

export const uploadRequestSchema = z.object({
  kind: z.enum(['image', 'csv'], { error: 'kind must be "image" or "csv"' }),
  filename: z.string({ error: 'filename is required' }).trim().min(1, 'filename must not be empty').max(255, 'filename is longer than 255 characters'),
  contentType: z.string().max(255).optional(),
  size: z.number({ error: 'size (bytes) is required' }).int('size must be a whole number of bytes').positive('size must be at least 1 byte'),
  dataset: z.string().max(64).optional(),
});

export type UploadRequest = z.infer<typeof uploadRequestSchema>;

export interface UploadLimits {
  maxImageBytes: number;
  maxCsvBytes: number;
  datasets: readonly string[];
}

export interface UploadPlan {
  key: string;
  contentType: string;
  maxBytes: number;
}

export class UploadRefused extends Error {
  override name = 'UploadRefused';
  constructor(
    message: string,
    readonly status: 400 | 413 | 415,
  ) {
    super(message);
  }
}

/** A file name as a key segment: letters, digits, `.`, `_`, `-`; accents folded; at most 80 characters. */
export function safeName(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? '';
  const folded = base.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  const cleaned = folded.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/-{2,}/g, '-').replace(/^[-.]+|-+$/g, '');
  if (cleaned.length <= 80) return cleaned || 'file';
  const dot = cleaned.lastIndexOf('.');
  const ext = dot > 0 && cleaned.length - dot <= 10 ? cleaned.slice(dot) : '';
  return cleaned.slice(0, 80 - ext.length) + ext;
}

const extensionOf = (name: string) => /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;

export function planUpload(request: UploadRequest, limits: UploadLimits, now = new Date(), id = randomBytes(4).toString('hex')): UploadPlan {
  const name = safeName(request.filename);
  const day = now.toISOString().slice(0, 10);
  if (request.kind === 'image') {
    const given = (request.contentType ?? '').toLowerCase();
    const contentType = given in IMAGE_TYPES ? given : given === '' || given === 'application/octet-stream' ? EXTENSION_TYPES[extensionOf(name)] : undefined;
    if (!contentType) {
      throw new UploadRefused(`${request.filename}: ${given || 'this file type'} is not an image the thumbnail pipeline reads (${Object.values(IMAGE_TYPES).join(', ')})`, 415);
    }
    if (request.size > limits.maxImageBytes) throw new UploadRefused(`${request.filename} is ${mib(request.size)}; images may be up to ${mib(limits.maxImageBytes)}`, 413);
    return { key: `images/${day}/${id}-${name}`, contentType, maxBytes: limits.maxImageBytes };
  }
  if (extensionOf(name) !== 'csv') throw new UploadRefused(`${request.filename}: only .csv files are imported`, 415);
  if (!CSV_TYPES.has((request.contentType ?? '').toLowerCase())) throw new UploadRefused(`${request.filename}: ${request.contentType} is not a CSV file`, 415);
  const dataset = request.dataset ?? '';
  if (!limits.datasets.includes(dataset)) {
    throw new UploadRefused(`dataset ${dataset ? `"${dataset}" is not one of` : 'is required for a CSV; use one of'} ${limits.datasets.join(', ')}`, 400);
  }
  if (request.size > limits.maxCsvBytes) throw new UploadRefused(`${request.filename} is ${mib(request.size)}; CSV files may be up to ${mib(limits.maxCsvBytes)}`, 413);
  return { key: `imports/${dataset}/${day}/${id}-${name}`, contentType: 'text/csv', maxBytes: limits.maxCsvBytes };
}
