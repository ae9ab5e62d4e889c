// TIMEOUT_OVERRIDES=notify=3,thumbnail=20 shortens (or lengthens) a function's timeout for a local
// run without editing the stack description: handy to see a timeout and its retry happen, and how
// the integration suite provokes one in seconds rather than minutes.

/** Parses `name=seconds,...`; every name must be a function of the stack. */
export function parseTimeoutOverrides(value: string, functionNames: readonly string[]): Map<string, number> {
  const overrides = new Map<string, number>();
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([a-z0-9-]+)=(\d+)$/i.exec(part);
    if (!match) throw new Error(`"${part}" is not name=seconds`);
    const [, name, seconds] = match;
    if (!functionNames.includes(name!)) throw new Error(`"${name}" is not a function of the stack (${functionNames.join(', ')})`);
    const n = Number(seconds);
    if (n < 1 || n > 900) throw new Error(`${name}: ${n} s is outside Lambda's 1..900 s`);
    overrides.set(name!, n);
  }
  return overrides;
}
