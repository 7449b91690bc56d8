/** Counts RPCs in progress so a graceful shutdown can wait for them, within a bound. */
export class InflightTracker {
  private count = 0;
  private waiters: Array<() => void> = [];

  enter(): () => void {
    this.count++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.count--;
      if (this.count === 0) {
        const ws = this.waiters;
        this.waiters = [];
        for (const w of ws) w();
      }
    };
  }

  get size(): number {
    return this.count;
  }

  /** Resolves true when nothing is in flight, false when the bound passed first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(done);
    });
  }
}
