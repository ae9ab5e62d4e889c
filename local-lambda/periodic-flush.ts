// What the log shipper and the metric publisher share: a flush every few seconds, one at a time
// (a call during a flush waits for it, then runs its own), and a last one at stop.
export abstract class PeriodicFlush {
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  protected constructor(private readonly everyMs: number) {}

  /** Puts what is held. */
  protected abstract flushOnce(): Promise<void>;

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.everyMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.flushOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  /** The last flush, then no more. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
