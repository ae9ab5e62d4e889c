// How bootstrap tells whether what exists already matches the plan (stack/local.ts), so that a
// second run changes nothing: pure comparisons of what LocalStack echoes back with what is wanted.
import type { TopicConfiguration } from '@aws-sdk/client-s3';

/** A notification configuration reduced to what matters, in a stable order: S3 echoes rule names capitalised. */
function canonicalNotifications(configs: readonly TopicConfiguration[]): string {
  const canonical = configs
    .map((c) => ({
      id: c.Id ?? '',
      topic: c.TopicArn,
      events: [...(c.Events ?? [])].sort(),
      rules: (c.Filter?.Key?.FilterRules ?? []).map((r) => `${String(r.Name).toLowerCase()}=${r.Value}`).sort(),
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
  return JSON.stringify(canonical);
}

/** True when the bucket already has exactly the wanted topic notifications. */
export const sameNotifications = (current: readonly TopicConfiguration[], wanted: readonly TopicConfiguration[]): boolean =>
  canonicalNotifications(current) === canonicalNotifications(wanted);

/** JSON values compared by content: SQS and SNS may echo `"3"` for 3 and reorder keys. */
function canonicalJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, canonicalJson(v)]),
    );
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

/** Two values equal as JSON content (key order and number-vs-string aside), e.g. CORS rules S3 echoes back. */
export const sameJson = (current: unknown, wanted: unknown): boolean => JSON.stringify(canonicalJson(current)) === JSON.stringify(canonicalJson(wanted));

function sameAttribute(current: string | undefined, wanted: string): boolean {
  if (current === wanted) return true;
  if (current === undefined) return false;
  try {
    return JSON.stringify(canonicalJson(JSON.parse(current))) === JSON.stringify(canonicalJson(JSON.parse(wanted)));
  } catch {
    return false;
  }
}

/** The wanted attributes (of a queue, topic or subscription) whose current value differs, JSON compared as JSON. */
export function attributeChanges(current: Record<string, string>, wanted: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(wanted).filter(([name, value]) => !sameAttribute(current[name], value)));
}
