/**
 * A FIFO async mutex. The VIP is shared: two samplers at once would interleave their
 * requests and shift the balancer's round-robin counters, so checks that sample the VIP
 * hold this lock while they do.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => next);
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
