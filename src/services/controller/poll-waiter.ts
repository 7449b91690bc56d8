import { isNotFound } from '../../cinder/errors.js';
import { sleep } from '../../cinder/retry.js';
import type { BatchedWaiter, WaitOptions, WaitResult } from '../../cinder/waiter.js';

/**
 * A waiter that reads one object again and again (100 ms, doubling to 2 s). For the rare,
 * short-lived objects that have no batched waiter: the groups and group snapshots of a
 * VolumeGroupSnapshot, a handful per cluster at a time.
 */
export function pollingWaiter<T extends { id: string; status: string }>(get: (id: string, o: { signal?: AbortSignal }) => Promise<T>): Pick<BatchedWaiter<T>, 'waitFor'> {
  return {
    waitFor: async (id: string, o: WaitOptions<T>): Promise<WaitResult<T>> => {
      let last = o.current;
      for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
        if (o.signal?.aborted) return { outcome: 'aborted', ...(last ? { last } : {}) };
        if (o.deadline !== undefined && Date.now() >= o.deadline) return { outcome: 'timeout', ...(last ? { last } : {}) };
        await sleep(o.deadline !== undefined ? Math.max(0, Math.min(delay, o.deadline - Date.now())) : delay, o.signal).catch(() => undefined);
        if (o.signal?.aborted) return { outcome: 'aborted', ...(last ? { last } : {}) };
        try {
          last = await get(id, o.signal ? { signal: o.signal } : {});
        } catch (err) {
          if (isNotFound(err)) return { outcome: 'gone' };
          throw err;
        }
        const verdict = o.until(last);
        if (verdict === 'done') return { outcome: 'done', object: last };
        if (verdict === 'failed' || last.status.startsWith('error')) return { outcome: 'failed', object: last };
      }
    },
  };
}
