import type { Backup, Snapshot, Volume } from '../../cinder/types.js';
import type { BatchedWaiter, WaitOptions, WaitResult, WaitVerdict } from '../../cinder/waiter.js';
import type { RpcContext } from '../../util/context.js';

/**
 * Deadline-bounded waits (architecture §5). Long Cinder operations are waited for within the caller's
 * deadline minus a margin — enough to send the answer before the caller stops listening — and
 * then answered ABORTED ("still in progress") by the caller of these helpers, so the sidecar
 * retries and the retry finds the same object by name or id. Nothing is remembered between calls.
 */
export const MIN_MARGIN_MS = 300;
export const MAX_MARGIN_MS = 2_000;
/** Without a deadline the caller would wait forever; a bounded wait keeps retries flowing. */
export const NO_DEADLINE_WAIT_MS = 120_000;

export function waitBudgetMs(ctx: Pick<RpcContext, 'deadline'>, now: number = Date.now()): number {
  if (ctx.deadline === undefined) return NO_DEADLINE_WAIT_MS;
  const left = ctx.deadline - now;
  const margin = Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, left * 0.1));
  return Math.max(0, Math.floor(left - margin));
}

/** The batched waiters (src/cinder/waiter.ts), one per kind, shared by all calls. */
export interface Waiters {
  volumes: Pick<BatchedWaiter<Volume>, 'waitFor'>;
  snapshots: Pick<BatchedWaiter<Snapshot>, 'waitFor'>;
  backups: Pick<BatchedWaiter<Backup>, 'waitFor'>;
}

/** `done` statuses; every `error*` status is terminal (the waiter also enforces that). */
export function statusIs(...done: string[]): (obj: { status: string }) => WaitVerdict {
  return (obj) => (done.includes(obj.status) ? 'done' : obj.status.startsWith('error') ? 'failed' : 'pending');
}

/** A wait's result as handlers see it: a cancelled wait counts as timed out (answer ABORTED). */
export type Settled<T> = Exclude<WaitResult<T>, { outcome: 'aborted' }>;

export async function waitWithin<T extends { id: string; status: string }>(
  waiter: Pick<BatchedWaiter<T>, 'waitFor'>,
  current: T,
  until: (obj: T) => WaitVerdict,
  ctx: RpcContext,
  now: () => number,
  extra: Pick<WaitOptions<T>, 'since' | 'watch'> = {},
): Promise<Settled<T>> {
  // Already there (or already failed): no poll at all.
  const verdict = until(current);
  if (verdict === 'done') return { outcome: 'done', object: current };
  if (verdict === 'failed' || current.status.startsWith('error')) return { outcome: 'failed', object: current };
  const deadline = now() + waitBudgetMs(ctx, now());
  const result = await waiter.waitFor(current.id, { until, signal: ctx.signal, deadline, current, ...extra });
  if (result.outcome === 'timeout' || result.outcome === 'aborted') return { outcome: 'timeout', last: result.last ?? current };
  return result;
}
