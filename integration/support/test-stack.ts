// The stack the end-to-end suites run: stack/stack.ts with shorter timeouts (and so shorter
// visibility timeouts), so that a failed delivery comes back in seconds rather than minutes. It is
// a different stack, rendered the same way to both targets (infra/parity.test.ts checks one like
// it), not a local deviation: the local Lambda service gets it as STACK_OVERRIDES.
import { baseStack } from '#stack';
import { withOverrides, type StackOverrides, type StackSpec } from '#stack/model';

export const TEST_OVERRIDES: StackOverrides = {
  functions: {
    thumbnail: { timeoutSeconds: 10, triggers: [{ visibilityTimeoutSeconds: 20 }] },
    notify: { timeoutSeconds: 5, triggers: [{ visibilityTimeoutSeconds: 10 }] },
    'csv-import': { timeoutSeconds: 20, triggers: [{ visibilityTimeoutSeconds: 40 }] },
    audit: { timeoutSeconds: 10 },
  },
};

/** TEST_OVERRIDES with a suite's own changes on top (per function, field by field). */
export function mergeOverrides(base: StackOverrides, extra: StackOverrides = {}): StackOverrides {
  const functions: NonNullable<StackOverrides['functions']> = { ...base.functions };
  for (const [name, o] of Object.entries(extra.functions ?? {})) {
    const b = functions[name] ?? {};
    const triggers = [...(b.triggers ?? [])];
    (o.triggers ?? []).forEach((t, i) => (triggers[i] = { ...(triggers[i] ?? {}), ...(t ?? {}) }));
    functions[name] = { ...b, ...o, environment: { ...b.environment, ...o.environment }, asyncInvoke: { ...b.asyncInvoke, ...o.asyncInvoke }, triggers };
  }
  return { functions };
}

export const testStack = (extra?: StackOverrides): { spec: StackSpec; overrides: StackOverrides } => {
  const overrides = mergeOverrides(TEST_OVERRIDES, extra);
  return { spec: withOverrides(baseStack, overrides), overrides };
};
