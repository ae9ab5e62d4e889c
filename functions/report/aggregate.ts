// The numbers of a report, from the processing-log items of its period: pure, so every figure is
// tested against fixtures with known answers.
import type { ProcessingLogItem } from '#shared/processing-log';

export interface FunctionFigures {
  function: string;
  processed: number;
  failed: number;
  /** durationMs percentiles over every item of the function (PROCESSED and FAILED). */
  p50Ms: number;
  p95Ms: number;
}

export interface ReportFigures {
  items: number;
  processed: number;
  failed: number;
  functions: FunctionFigures[];
  thumbnails: { images: number; bytesIn: number; bytesOut: number };
  imports: { files: number; rowsRead: number; rowsWritten: number; rowsSkipped: number; rowsRejected: number };
  /** The most frequent failure reasons, most frequent first (ties by function, then reason). */
  topFailures: Array<{ function: string; reason: string; count: number }>;
}

/** Nearest-rank percentile of sorted values (0 for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

export interface AggregateOptions {
  /** Functions listed even when the period has none of their items (a row of zeros). */
  functions?: readonly string[];
  /** How many failure reasons to keep. */
  topN?: number;
}

export function aggregate(items: readonly ProcessingLogItem[], { functions: always = [], topN = 10 }: AggregateOptions = {}): ReportFigures {
  const byFunction = new Map<string, ProcessingLogItem[]>(always.map((fn) => [fn, []]));
  for (const item of items) byFunction.set(item.function, [...(byFunction.get(item.function) ?? []), item]);
  const functions = [...byFunction.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([fn, list]): FunctionFigures => {
      const durations = list.map((i) => num(i.durationMs)).sort((a, b) => a - b);
      return {
        function: fn,
        processed: list.filter((i) => i.status === 'PROCESSED').length,
        failed: list.filter((i) => i.status === 'FAILED').length,
        p50Ms: percentile(durations, 50),
        p95Ms: percentile(durations, 95),
      };
    });
  const thumbs = items.filter((i) => i.function === 'thumbnail' && i.status === 'PROCESSED');
  const imports = items.filter((i) => i.function === 'csv-import' && i.status === 'PROCESSED');
  const reasons = new Map<string, { function: string; reason: string; count: number }>();
  for (const item of items.filter((i) => i.status === 'FAILED')) {
    const id = `${item.function}\u0000${item.reason ?? ''}`;
    const entry = reasons.get(id) ?? { function: item.function, reason: item.reason ?? '(no reason given)', count: 0 };
    entry.count++;
    reasons.set(id, entry);
  }
  const sum = (list: ProcessingLogItem[], field: string) => list.reduce((total, i) => total + num(i.details?.[field]), 0);
  return {
    items: items.length,
    processed: items.filter((i) => i.status === 'PROCESSED').length,
    failed: items.filter((i) => i.status === 'FAILED').length,
    functions,
    thumbnails: { images: thumbs.length, bytesIn: sum(thumbs, 'bytesIn'), bytesOut: sum(thumbs, 'bytesOut') },
    imports: {
      files: imports.length,
      rowsRead: sum(imports, 'rowsRead'),
      rowsWritten: sum(imports, 'rowsWritten'),
      rowsSkipped: sum(imports, 'rowsSkipped'),
      rowsRejected: sum(imports, 'rowsRejected'),
    },
    topFailures: [...reasons.values()]
      .sort((a, b) => b.count - a.count || a.function.localeCompare(b.function) || a.reason.localeCompare(b.reason))
      .slice(0, topN),
  };
}
