// Stand-ins for the unit tests of the pollers: a container that answers through a FunctionRuntime
// like aws-lambda-ric does (poll, answer, poll again), and AWS clients kept in memory.
import pino from 'pino';
import type { FunctionError, FunctionRuntime } from '../function-runtime';

export const silent = pino({ level: 'silent' });

export type Answer = { ok: unknown } | { error: FunctionError };

/** `count` containers polling `runtime`; each invocation's event goes to `answer`. Returns the events seen. */
export function containers(runtime: FunctionRuntime, answer: (event: any) => Answer | Promise<Answer>, count = 1): { events: any[] } {
  const events: any[] = [];
  const poll = (worker: string) =>
    runtime.addPoller({
      worker,
      deliver: (invocation) => {
        const event = JSON.parse(invocation.payload.toString());
        events.push(event);
        void Promise.resolve(answer(event)).then((a) => {
          if ('ok' in a) runtime.complete(invocation.requestId, Buffer.from(JSON.stringify(a.ok ?? null)));
          else runtime.fail(invocation.requestId, a.error);
          poll(worker);
        });
        return true;
      },
    });
  for (let i = 0; i < count; i++) poll(`10.0.0.${i + 1}`);
  return { events };
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
