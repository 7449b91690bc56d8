import { aborted } from '../../util/errors.js';

/**
 * Runs calls with the same key one after another inside this process. The gRPC edge already
 * refuses a second in-flight call per name, but the handlers must stay correct without it
 * (tests, other callers): the second call then simply finds what the first one made. Nothing
 * here outlives a call, so a restart loses nothing.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, signal: AbortSignal, what: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    try {
      await waitOrAbort(previous, signal, what);
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

function waitOrAbort(p: Promise<void>, signal: AbortSignal, what: string): Promise<void> {
  if (signal.aborted) return Promise.reject(aborted(`${what} is already in progress; retry later`));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(aborted(`${what} is already in progress; retry later`));
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
