import type { ListSnapshotsRequest__Output } from '../../generated/csi/v1/ListSnapshotsRequest.js';
import type { ListSnapshotsResponse } from '../../generated/csi/v1/ListSnapshotsResponse.js';
import type { RpcContext } from '../../util/context.js';
import { META_CLUSTER } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { findSnapshot } from './lookup.js';
import { checkMaxEntries, pageFrom } from './paging.js';
import { toCsiSnapshot } from './snapshot-view.js';
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
  return async (req: ListSnapshotsRequest__Output, ctx: RpcContext): Promise<ListSnapshotsResponse> => {
    const max = checkMaxEntries(req.max_entries);
    const source = req.source_volume_id ?? '';
    if (req.snapshot_id) {
      const snap = await findSnapshot(d.cinder, req.snapshot_id, ctx);
      if (!snap || (source !== '' && snap.volumeId !== source)) return { entries: [], next_token: '' };
      return { entries: [{ snapshot: toCsiSnapshot(snap) }], next_token: '' };
    }
    if (source !== '' && !isUuid(source)) return { entries: [], next_token: '' };
    const page = await pageFrom(
      (q) => d.cinder.listSnapshots({ status: 'available', ...(source ? { volumeId: source } : {}), ...q }, ctx),
      req.starting_token,
      max,
    );
    return {
      entries: page.items.filter((s) => s.metadata[META_CLUSTER] === d.clusterId).map((s) => ({ snapshot: toCsiSnapshot(s) })),
      next_token: page.nextToken,
    };
  };
}
