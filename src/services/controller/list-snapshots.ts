import type { RpcContext } from '../../util/context.js';
import { META_CLUSTER } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { findSnapshotView } from './get-snapshot.js';
import { pageFrom } from './paging.js';
import type { ListSnapshotsInput, Page, SnapshotView } from './requests.js';
import { backupSnapshotView, toSnapshotView } from './snapshot-view.js';
import { isUuid } from './tokens.js';

/**
 * ListSnapshots.
 * - By snapshot_id: that snapshot or backup whatever made it (the CO asks for an exact id, e.g.
 *   a pre-provisioned VolumeSnapshotContent), in any state with its current ready_to_use; a
 *   missing one is an empty list, not an error.
 * - Otherwise (all, or by source_volume_id): this cluster's `available` snapshots, then its
 *   `available` backups — the spec forbids listing snapshots not cut yet — paged like
 *   ListVolumes. Cinder filters neither by metadata, so other clusters' copies are dropped after
 *   fetching: a page may hold fewer than max_entries entries (allowed) and still carry a
 *   next_token. A token of the backup phase is BACKUP_PHASE + the phase's own marker token.
 */
const BACKUP_PHASE = 'b1.';

export function listSnapshotsHandler(d: HandlerDeps) {
  return async (req: ListSnapshotsInput, ctx: RpcContext): Promise<Page<SnapshotView>> => {
    const source = req.sourceVolumeId;
    if (req.snapshotId) {
      const view = await findSnapshotView(d, req.snapshotId, ctx);
      if (!view || (source !== '' && view.sourceVolumeId !== source)) return { entries: [], nextToken: '' };
      return { entries: [view], nextToken: '' };
    }
    if (source !== '' && !isUuid(source)) return { entries: [], nextToken: '' };
    const bySource = source ? { volumeId: source } : {};
    const ours = (o: { metadata: Record<string, string> }) => o.metadata[META_CLUSTER] === d.clusterId;
    const backups = async (token: string | undefined, max: number): Promise<Page<SnapshotView>> => {
      const page = await pageFrom((q) => d.cinder.listBackups({ status: 'available', ...bySource, ...q }, ctx), token, max);
      return { entries: page.items.filter(ours).map(backupSnapshotView), nextToken: page.nextToken && BACKUP_PHASE + page.nextToken };
    };

    if (req.startingToken.startsWith(BACKUP_PHASE)) return backups(req.startingToken.slice(BACKUP_PHASE.length) || undefined, req.maxEntries);
    const snaps = await pageFrom(
      (q) => d.cinder.listSnapshots({ status: 'available', ...bySource, ...q }, ctx),
      req.startingToken,
      req.maxEntries,
    );
    const entries = snaps.items.filter(ours).map(toSnapshotView);
    if (snaps.nextToken) return { entries, nextToken: snaps.nextToken };
    // The snapshots are done: the backups follow, in this page as far as it has room.
    const room = req.maxEntries > 0 ? req.maxEntries - snaps.items.length : 0;
    if (req.maxEntries > 0 && room <= 0) return { entries, nextToken: BACKUP_PHASE };
    const rest = await backups(undefined, room);
    return { entries: [...entries, ...rest.entries], nextToken: rest.nextToken };
  };
}
