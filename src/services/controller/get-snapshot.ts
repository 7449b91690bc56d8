import type { RpcContext } from '../../util/context.js';
import { notFound } from '../../util/errors.js';
import type { HandlerDeps } from './deps.js';
import { findBackup, findSnapshot } from './lookup.js';
import type { SnapshotView } from './requests.js';
import { parseSnapshotId } from './snapshot-ids.js';
import { backupSnapshotView, toSnapshotView } from './snapshot-view.js';

/**
 * GetSnapshot (CSI 1.12): the snapshot (or backup) with that id, read as ListSnapshots by
 * snapshot_id reads it — whatever made it, in any state, ready_to_use only once Cinder says
 * `available` — except that a missing one is NOT_FOUND, as the spec asks, where the list is
 * merely empty. An id this driver cannot have made names no snapshot.
 */
export function getSnapshotHandler(d: HandlerDeps) {
  return async (snapshotId: string, ctx: RpcContext): Promise<SnapshotView> => {
    const view = await findSnapshotView(d, snapshotId, ctx);
    if (!view) throw notFound(`snapshot ${snapshotId} does not exist`);
    return view;
  };
}

/** The snapshot or backup a CSI snapshot id names, as CSI describes it; undefined when missing. */
export async function findSnapshotView(d: HandlerDeps, csiId: string, ctx: RpcContext): Promise<SnapshotView | undefined> {
  const ref = parseSnapshotId(csiId);
  if (!ref) return undefined;
  if (ref.kind === 'backup') {
    const b = await findBackup(d.cinder, ref.id, ctx);
    return b && backupSnapshotView(b);
  }
  const s = await findSnapshot(d.cinder, ref.id, ctx);
  return s && toSnapshotView(s);
}
