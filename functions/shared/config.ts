// Configuration comes from the environment and is validated ONCE, at cold start (module load of a
// handler). A bad or missing variable fails the init with a message naming it, which the runtime
// reports to /runtime/init/error, instead of failing later on the first event.
import { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined> = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)';
    const value = issue.path.length === 1 ? env[String(issue.path[0])] : undefined;
    return value === undefined ? `${variable} is required (${issue.message})` : `${variable}=${JSON.stringify(value)} is invalid: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
}

/** A non-empty string variable. */
export const requiredString = z.string({ error: 'missing' }).trim().min(1, 'must not be empty');

/** A positive integer variable, e.g. MAX_INPUT_PIXELS=50000000. */
export const positiveInt = z
  .string({ error: 'missing' })
  .trim()
  .regex(/^\d+$/, 'must be a positive integer')
  .transform(Number)
  .refine((n) => n > 0 && Number.isSafeInteger(n), 'must be a positive integer');
