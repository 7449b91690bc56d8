import type { RpcContext } from '../../util/context.js';
import { notFound } from '../../util/errors.js';
import type { HandlerDeps } from './deps.js';
import { findSnapshot } from './lookup.js';
import type { SnapshotView } from './requests.js';
import { toSnapshotView } from './snapshot-view.js';

/**
 * GetSnapshot (CSI 1.12): the snapshot with that id, read as ListSnapshots by snapshot_id reads
 * it — whatever made it, in any state, ready_to_use only once Cinder says `available` — except
 * that a missing one is NOT_FOUND, as the spec asks, where the list is merely empty. An id that
 * is not a Cinder UUID names no snapshot.
 */
export function getSnapshotHandler(d: HandlerDeps) {
  return async (snapshotId: string, ctx: RpcContext): Promise<SnapshotView> => {
    const snap = await findSnapshot(d.cinder, snapshotId, ctx);
    if (!snap) throw notFound(`snapshot ${snapshotId} does not exist`);
    return toSnapshotView(snap);
  };
}
