// CloudWatch Embedded Metric Format: a log line that is a JSON object with an `_aws` member
// naming metrics becomes metrics, as CloudWatch Logs extracts them on AWS (LocalStack does not).
// The rules followed are the specification's: a Timestamp in epoch ms, 1-100 metrics per
// directive, each dimension set of at most 30 names whose values are strings in the object, a
// value a number or an array of at most 100 numbers. A line that breaks them yields no metric
// (on AWS it stays a plain log line too). Pure: parsing only.

export interface MetricSample {
  namespace: string;
  name: string;
  unit?: string;
  /** [name, value] pairs, in the order declared. */
  dimensions: [string, string][];
  values: number[];
  timestamp: number;
  /** 1 for high resolution; 60 (the default) otherwise. */
  storageResolution?: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 1024;

/** The metrics an EMF line carries; [] for any other line or an invalid one. */
export function emfMetrics(line: string): MetricSample[] {
  const text = line.trim();
  if (!text.startsWith('{') || !text.includes('"_aws"')) return [];
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isRecord(root) || !isRecord(root._aws)) return [];
  const { Timestamp: timestamp, CloudWatchMetrics: directives } = root._aws;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || !Array.isArray(directives)) return [];
  const samples: MetricSample[] = [];
  for (const directive of directives) {
    if (!isRecord(directive) || !isName(directive.Namespace) || !Array.isArray(directive.Dimensions) || !Array.isArray(directive.Metrics)) return [];
    if (directive.Metrics.length < 1 || directive.Metrics.length > 100) return [];
    const sets: [string, string][][] = [];
    for (const set of directive.Dimensions) {
      if (!Array.isArray(set) || set.length > 30) return [];
      const pairs: [string, string][] = [];
      for (const name of set) {
        const value = isName(name) ? root[name] : undefined;
        if (typeof value !== 'string' || value.length < 1 || value.length > 1024) return [];
        pairs.push([name as string, value]);
      }
      sets.push(pairs);
    }
    // No dimension set declared: the metric has no dimensions.
    if (sets.length === 0) sets.push([]);
    for (const metric of directive.Metrics) {
      if (!isRecord(metric) || !isName(metric.Name)) return [];
      const raw = root[metric.Name];
      const values = typeof raw === 'number' ? [raw] : Array.isArray(raw) && raw.length <= 100 && raw.every((v) => typeof v === 'number') ? (raw as number[]) : undefined;
      if (!values || values.length === 0 || !values.every(Number.isFinite)) return [];
      const unit = typeof metric.Unit === 'string' ? metric.Unit : undefined;
      const storageResolution = metric.StorageResolution === 1 ? 1 : undefined;
      for (const dimensions of sets) {
        samples.push({ namespace: directive.Namespace, name: metric.Name, ...(unit && { unit }), dimensions, values, timestamp, ...(storageResolution && { storageResolution }) });
      }
    }
  }
  return samples;
}
