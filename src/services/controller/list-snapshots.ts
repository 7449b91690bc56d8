import type { RpcContext } from '../../util/context.js';
import { META_CLUSTER } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { findSnapshot } from './lookup.js';
import { pageFrom } from './paging.js';
import type { ListSnapshotsInput, Page, SnapshotView } from './requests.js';
import { toSnapshotView } from './snapshot-view.js';
import { isUuid } from './tokens.js';

/**
 * ListSnapshots.
 * - By snapshot_id: that snapshot whatever made it (the CO asks for an exact id, e.g. a
 *   pre-provisioned VolumeSnapshotContent), in any state with its current ready_to_use; a
 *   missing one is an empty list, not an error.
 * - Otherwise (all, or by source_volume_id): this cluster's `available` snapshots — the spec
 *   forbids listing snapshots not cut yet — paged like ListVolumes. Cinder has no metadata
 *   filter for snapshots, so other clusters' snapshots are dropped after fetching: a page may
 *   hold fewer than max_entries entries (allowed) and still carry a next_token.
 */
export function listSnapshotsHandler(d: HandlerDeps) {
  return async (req: ListSnapshotsInput, ctx: RpcContext): Promise<Page<SnapshotView>> => {
    const source = req.sourceVolumeId;
    if (req.snapshotId) {
      const snap = await findSnapshot(d.cinder, req.snapshotId, ctx);
      if (!snap || (source !== '' && snap.volumeId !== source)) return { entries: [], nextToken: '' };
      return { entries: [toSnapshotView(snap)], nextToken: '' };
    }
    if (source !== '' && !isUuid(source)) return { entries: [], nextToken: '' };
    const page = await pageFrom(
      (q) => d.cinder.listSnapshots({ status: 'available', ...(source ? { volumeId: source } : {}), ...q }, ctx),
      req.startingToken,
      req.maxEntries,
    );
    return {
      entries: page.items.filter((s) => s.metadata[META_CLUSTER] === d.clusterId).map(toSnapshotView),
      nextToken: page.nextToken,
    };
  };
}
