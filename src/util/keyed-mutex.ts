/**
 * In-process mutual exclusion per key, queueing (unlike the edge's try-locks): iSCSI sessions
 * and node records are shared by every LUN of a target, so two volumes on one target must not
 * log in and out at the same time; two CreateVolume calls with one name must not both create.
 * Several keys are taken in sorted order (no deadlock). A waiter whose signal aborts leaves the
 * queue with the error it was given, and those behind it move up.
 */
export interface WaitOptions {
  signal?: AbortSignal;
  /** What a waiter whose signal aborts throws. */
  abortError?: () => Error;
}

export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>, opts: WaitOptions = {}): Promise<T> {
    return this.runAll([key], fn, opts);
  }

  async runAll<T>(keys: readonly string[], fn: () => Promise<T>, opts: WaitOptions = {}): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const k of sorted) releases.push(await this.acquire(k, opts));
      return await fn();
    } finally {
      for (const r of releases.reverse()) r();
    }
  }

  /** Keys currently held or waited for (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }

  private async acquire(key: string, opts: WaitOptions): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    const done = (): void => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
    try {
      await (opts.signal ? waitOrAbort(previous, opts.signal, opts.abortError) : previous);
    } catch (err) {
      done();
      throw err;
    }
    return done;
  }
}

function waitOrAbort(p: Promise<void>, signal: AbortSignal, abortError: (() => Error) | undefined): Promise<void> {
  const error = (): Error => abortError?.() ?? new Error('aborted while waiting for a lock');
  if (signal.aborted) return Promise.reject(error());
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(error());
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
