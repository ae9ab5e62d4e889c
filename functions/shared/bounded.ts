// Text that goes into a message or an item is bounded: a reason quoting a 50 MB CSV field must not
// make a processing-log item exceed DynamoDB's 400 KB, an alert SNS's 256 KB, or a failure record
// SQS's 256 KB.

/** About 1 KB: enough to say what went wrong, with an excerpt. */
export const MAX_REASON_CHARS = 1024;

/** `text` cut to `max` characters, ending with an ellipsis when it was cut. */
export function capText(text: string, max = MAX_REASON_CHARS): string {
  if (text.length <= max) return text;
  // Do not cut a surrogate pair in half.
  const end = /[\uD800-\uDBFF]/.test(text[max - 2] ?? '') ? max - 2 : max - 1;
  return `${text.slice(0, end)}…`;
}

/** S3 keys are at most 1024 bytes of UTF-8. */
export const MAX_S3_KEY_BYTES = 1024;
export const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
