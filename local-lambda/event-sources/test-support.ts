// Stand-ins for the unit tests of the pollers: a FunctionRuntime whose environments start at once
// and answer like aws-lambda-ric does (ask, answer, ask again), and AWS clients kept in memory.
import pino from 'pino';
import { AccountConcurrency, FunctionConcurrency } from '../concurrency';
import { FunctionRuntime, type EnvironmentLauncher, type FunctionError } from '../function-runtime';

export const silent = pino({ level: 'silent' });

export type Answer = { ok: unknown } | { error: FunctionError };

export interface TestRuntimeOptions {
  name?: string;
  timeoutSeconds?: number;
  /** Reserved concurrency (0 throttles everything); unset: the account's pool. */
  reserved?: number;
  /** The account's concurrency (default 100). */
  account?: number;
}

/**
 * A runtime whose environments answer each event with `answer`. Returns it, the events seen, and
 * how many environments were started.
 */
export function testRuntime(answer: (event: any) => Answer | Promise<Answer>, options: TestRuntimeOptions = {}): { runtime: FunctionRuntime; events: any[]; started: () => number } {
  const name = options.name ?? 'f';
  const events: any[] = [];
  let started = 0;
  const ask = (address: string) =>
    runtime.next(address, {
      deliver: (invocation) => {
        const event = JSON.parse(invocation.payload.toString());
        events.push(event);
        void Promise.resolve(answer(event)).then((a) => {
          if ('ok' in a) runtime.respond(address, invocation.requestId, Buffer.from(JSON.stringify(a.ok ?? null)));
          else runtime.fail(address, invocation.requestId, a.error);
          ask(address);
        });
        return true;
      },
    });
  const launcher: EnvironmentLauncher = {
    launch: async () => {
      const address = `10.0.${Math.floor(++started / 250)}.${started % 250}`;
      setImmediate(() => ask(address));
      return { id: `c${started}`, address, logStream: `stream-${started}` };
    },
    remove: () => undefined,
  };
  const account = new AccountConcurrency(options.account ?? 100, 1);
  const runtime = new FunctionRuntime({
    name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    timeoutSeconds: options.timeoutSeconds ?? 5,
    memoryMb: 128,
    concurrency: new FunctionConcurrency(name, account, options.reserved),
    launcher,
    idleTimeoutMs: 60_000,
  });
  return { runtime, events, started: () => started };
}

/** A client whose `send` dispatches on the command's class name to the given handlers. */
export function fakeClient(handlers: Record<string, (input: any) => unknown>) {
  const calls: Array<{ command: string; input: any }> = [];
  return {
    calls,
    client: {
      send: async (command: { constructor: { name: string }; input: unknown }) => {
        const name = command.constructor.name;
        calls.push({ command: name, input: command.input });
        const handler = handlers[name];
        if (!handler) throw new Error(`unexpected ${name}`);
        return handler(command.input);
      },
    } as any,
  };
}

/** Waits (polling, with a deadline) until `ready` holds. */
export async function until(ready: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
