import { isBadRequest, isNotFound } from '../../cinder/errors.js';
import type { Snapshot } from '../../cinder/types.js';
import type { BatchedWaiter } from '../../cinder/waiter.js';
import type { RpcContext } from '../../util/context.js';
import { aborted, errorMessage, failedPrecondition, internal } from '../../util/errors.js';
import type { HandlerDeps } from './deps.js';
import { findBackup, findSnapshot } from './lookup.js';
import { parseSnapshotId } from './snapshot-ids.js';
import { waitWithin } from './wait.js';

/**
 * DeleteSnapshot: idempotent (gone, or an id that names nothing this driver makes → OK). Like
 * DeleteVolume it waits until Cinder has removed the snapshot or backup (ABORTED at the
 * deadline, INTERNAL on `error_deleting`); one Cinder is still busy with (`creating`, and a
 * backup being `restoring`) is waited for first, as Cinder refuses to delete it then. A backup
 * that a later incremental backup depends on is FAILED_PRECONDITION: Cinder keeps it until the
 * incremental ones are deleted. A snapshot cut in a group snapshot is FAILED_PRECONDITION too:
 * Cinder deletes it only with its group snapshot (group-snapshots.ts).
 */
export function deleteSnapshotHandler(d: HandlerDeps) {
  return async (csiId: string, ctx: RpcContext): Promise<void> => {
    const ref = parseSnapshotId(csiId);
    if (!ref) return;
    if (ref.kind === 'backup') {
      await deleteCopy(d, { noun: 'backup', busy: new Set(['creating', 'restoring']), find: (id) => findBackup(d.cinder, id, ctx), remove: (id) => d.cinder.deleteBackup(id, ctx), waiter: d.waiters.backups }, csiId, ref.id, ctx);
    } else {
      const inGroup = (s: Snapshot) =>
        s.groupSnapshotId
          ? `snapshot ${csiId} was cut in group snapshot ${s.groupSnapshotId}, and Cinder deletes it only with that: delete the VolumeGroupSnapshot`
          : undefined;
      await deleteCopy(
        d,
        { noun: 'snapshot', busy: new Set(['creating']), find: (id) => findSnapshot(d.cinder, id, ctx), remove: (id) => d.cinder.deleteSnapshot(id, ctx), waiter: d.waiters.snapshots, refusal: inGroup },
        csiId,
        ref.id,
        ctx,
      );
    }
  };
}

interface Deletable<T extends { id: string; status: string }> {
  noun: 'snapshot' | 'backup';
  /** Statuses Cinder will not delete from, that end on their own. */
  busy: ReadonlySet<string>;
  find(id: string): Promise<T | undefined>;
  remove(id: string): Promise<void>;
  waiter: Pick<BatchedWaiter<T>, 'waitFor'>;
  /** Why this one cannot be deleted on its own (FAILED_PRECONDITION), if so. */
  refusal?(copy: T): string | undefined;
}

async function deleteCopy<T extends { id: string; status: string }>(d: HandlerDeps, kind: Deletable<T>, csiId: string, id: string, ctx: RpcContext): Promise<void> {
  let copy = await kind.find(id);
  if (!copy) return;
  const why = kind.refusal?.(copy);
  if (why) throw failedPrecondition(why);
  if (kind.busy.has(copy.status)) {
    const r = await waitWithin(kind.waiter, copy, (s) => (kind.busy.has(s.status) ? 'pending' : 'done'), ctx, d.now);
    if (r.outcome === 'gone') return;
    if (r.outcome === 'timeout') throw aborted(`snapshot ${csiId} is still ${r.last?.status ?? copy.status} in Cinder; it is deleted once that finishes — retry`);
    copy = r.object;
  }
  if (copy.status !== 'deleting') {
    try {
      await kind.remove(id);
    } catch (err) {
      if (isNotFound(err)) return;
      if (kind.noun === 'backup' && isBadRequest(err) && /incremental/i.test(errorMessage(err))) {
        throw failedPrecondition(`snapshot ${csiId} is a Cinder backup that later incremental backups depend on; delete those snapshots first (Cinder: ${errorMessage(err)})`);
      }
      throw err;
    }
  }
  const r = await waitWithin(kind.waiter, { ...copy, status: 'deleting' }, () => 'pending', ctx, d.now);
  if (r.outcome === 'failed') throw internal(`Cinder failed to delete ${kind.noun} ${id} (status ${r.object.status}); an administrator must reset its state`);
  if (r.outcome === 'timeout') throw aborted(`${kind.noun} ${id} is still being deleted by Cinder; retry`);
}
