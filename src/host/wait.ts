import { DriverError } from '../util/errors.js';
import { abortReason } from './abort.js';

export interface WaitOptions {
  /** Upper bound; the wait fails with a WaitTimeoutError naming what it waited for. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Re-check interval besides the watch events (udev links may be missed by a watch set up
   *  on a parent directory created later, sysfs has no events). Default 250 ms. */
  pollMs?: number;
}

/** A device or file did not appear (or go away) within the bound. */
export class WaitTimeoutError extends DriverError {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super('timed-out', `timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = 'WaitTimeoutError';
  }
}

/** Subscribes `wake` to change events; returns the unsubscribe function. */
export type Watcher = (wake: () => void) => () => void;

/**
 * Wait until `check` returns a value (not undefined): checks at once, then again on every
 * watch event and every `pollMs`, and gives up after `timeoutMs` or when the signal fires.
 * No fixed sleeps: a device that appears after 20 ms is seen after about 20 ms.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: WaitOptions & { watch?: Watcher },
): Promise<T> {
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const first = await check();
  if (first !== undefined) return first;

  return new Promise<T>((resolve, reject) => {
    let done = false;
    let checking = false;
    let again = false;
    const cleanups: (() => void)[] = [];
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      for (const c of cleanups) c();
      fn();
    };
    const runCheck = (): void => {
      if (done) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      check().then(
        (value) => {
          checking = false;
          if (value !== undefined) finish(() => resolve(value));
          else if (again) {
            again = false;
            runCheck();
          }
        },
        (err: unknown) => {
          checking = false;
          finish(() => reject(err));
        },
      );
    };

    const deadline = setTimeout(
      () => finish(() => reject(new WaitTimeoutError(what, options.timeoutMs))),
      options.timeoutMs,
    );
    cleanups.push(() => clearTimeout(deadline));
    const poll = setInterval(runCheck, Math.max(5, options.pollMs ?? 250));
    cleanups.push(() => clearInterval(poll));
    if (signal) {
      const onAbort = (): void => finish(() => reject(abortReason(signal)));
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
    if (options.watch) {
      try {
        cleanups.push(options.watch(runCheck));
      } catch {
        // the poll still runs
      }
    }
    // A change between the first check and the watch being set up would otherwise be missed.
    runCheck();
  });
}
