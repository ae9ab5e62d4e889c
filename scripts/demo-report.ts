// Pure parts of `make demo`: which keys it uploads, what it expects back, how it prints it. The
// settings come from the running functions themselves (their environment, as the template set it).
import { parse } from 'csv-parse/sync';
import type { ResolvedDataset } from '../functions/csv-import/datasets';

export interface DemoCsv {
  file: string;
  key: string;
  dataset: ResolvedDataset;
}

export interface DemoKeys {
  photo: string;
  csvs: DemoCsv[];
}

/** The sample CSV of each data set, in samples/. */
export const DEMO_CSV_FILES: Record<string, string> = { people: 'samples/people.csv', 'debian-releases': 'samples/debian-releases.csv' };

/** The demo's upload keys: a fresh id per run, so each run is processed (and shown) anew; one CSV per data set with a sample. */
export const demoKeys = (id: string, datasets: readonly ResolvedDataset[]): DemoKeys => ({
  photo: `images/demo-${id}.jpg`,
  csvs: datasets.filter((d) => DEMO_CSV_FILES[d.name]).map((dataset) => ({ file: DEMO_CSV_FILES[dataset.name]!, key: `${dataset.prefix}demo-${id}.csv`, dataset })),
});

/** The data set's key column (its first partition column). */
export const keyColumnOf = (dataset: Pick<ResolvedDataset, 'key'>): string => [dataset.key.partition].flat()[0]!;

/** Values of the key column in a CSV, in file order, rows without one left out (they are rejected). */
export function csvKeyValues(csvText: string, keyColumn: string): string[] {
  const records = parse(csvText, { columns: true, bom: true, skip_empty_lines: true, relax_column_count: true }) as Record<string, string>[];
  return records.map((r) => r[keyColumn]?.trim() ?? '').filter(Boolean);
}

/** An imported row printed with its columns in the data set's order, then any undeclared ones. */
export function formatRow(row: Record<string, unknown>, dataset: Pick<ResolvedDataset, 'columns'>): string {
  const declared = Object.keys(dataset.columns);
  const ordered = [...declared.filter((c) => c in row), ...Object.keys(row).filter((c) => !declared.includes(c)).sort()];
  return JSON.stringify(Object.fromEntries(ordered.map((c) => [c, row[c]])));
}

/** The widths the thumbnail function makes (THUMBNAIL_WIDTHS) for an upright source `sourceWidth` pixels wide (never upscaled). */
export function expectedThumbnailWidths(sourceWidth: number, configured: string): number[] {
  const widths = configured.split(',').map(Number).filter((w) => w > 0);
  return [...new Set(widths.map((w) => Math.min(w, sourceWidth)))].sort((a, b) => a - b);
}

export interface SnsEnvelope {
  Type: string;
  Subject?: string;
  Message: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** The SNS envelope of an inbox message when it announces the upload of `key`. */
export function uploadNotificationFor(sqsBody: string | undefined, key: string): SnsEnvelope | undefined {
  try {
    const envelope = JSON.parse(sqsBody ?? '') as SnsEnvelope;
    return (JSON.parse(envelope.Message) as { key?: string }).key === key ? envelope : undefined;
  } catch {
    return undefined;
  }
}

/** `name=value` pairs of SNS message attributes, sorted, for one readable line. */
export const formatAttributes = (attributes: SnsEnvelope['MessageAttributes']): string =>
  Object.entries(attributes ?? {})
    .map(([name, { Value }]) => `${name}=${Value}`)
    .sort()
    .join(' ');
