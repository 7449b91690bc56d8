import { isNotFound } from '../../cinder/errors.js';
import type { RpcContext } from '../../util/context.js';
import { aborted, internal } from '../../util/errors.js';
import type { HandlerDeps } from './deps.js';
import { findSnapshot } from './lookup.js';
import { waitWithin } from './wait.js';

/**
 * DeleteSnapshot: idempotent (gone or not a UUID → OK). Like DeleteVolume it waits until Cinder
 * has removed the snapshot (ABORTED at the deadline, INTERNAL on `error_deleting`); a snapshot
 * still `creating` is waited for first, as Cinder refuses to delete it.
 */
export function deleteSnapshotHandler(d: HandlerDeps) {
  return async (id: string, ctx: RpcContext): Promise<void> => {
    let snap = await findSnapshot(d.cinder, id, ctx);
    if (!snap) return;
    if (snap.status === 'creating') {
      const r = await waitWithin(d.waiters.snapshots, snap, (s) => (s.status === 'creating' ? 'pending' : 'done'), ctx, d.now);
      if (r.outcome === 'gone') return;
      if (r.outcome === 'timeout') throw aborted(`snapshot ${id} is still being created; it is deleted once that finishes — retry`);
      snap = r.object;
    }
    if (snap.status !== 'deleting') {
      try {
        await d.cinder.deleteSnapshot(id, ctx);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
    }
    const r = await waitWithin(d.waiters.snapshots, { ...snap, status: 'deleting' }, () => 'pending', ctx, d.now);
    if (r.outcome === 'failed') throw internal(`Cinder failed to delete snapshot ${id} (status ${r.object.status}); an administrator must reset its state`);
    if (r.outcome === 'timeout') throw aborted(`snapshot ${id} is still being deleted by Cinder; retry`);
    return;
  };
}
