import type { Backup, Snapshot } from '../../cinder/types.js';
import { gibToBytes } from './capacity-range.js';
import { parseCinderTime } from './cinder-time.js';
import type { SnapshotView } from './requests.js';
import { backupSnapshotId } from './snapshot-ids.js';

/** A Cinder snapshot as CSI reports it; ready_to_use only once Cinder says `available`. */
export function toSnapshotView(s: Snapshot): SnapshotView {
  const created = parseCinderTime(s.createdAt);
  return {
    snapshotId: s.id,
    sourceVolumeId: s.volumeId,
    sizeBytes: gibToBytes(s.size),
    ...(created ? { createdAt: created } : {}),
    readyToUse: s.status === 'available',
    ...(s.groupSnapshotId ? { groupSnapshotId: s.groupSnapshotId } : {}),
  };
}

/** A Cinder backup taken for a VolumeSnapshot; ready_to_use once Cinder says `available`. */
export function backupSnapshotView(b: Backup): SnapshotView {
  const created = parseCinderTime(b.createdAt);
  return {
    snapshotId: backupSnapshotId(b.id),
    sourceVolumeId: b.volumeId,
    sizeBytes: gibToBytes(b.size),
    ...(created ? { createdAt: created } : {}),
    readyToUse: b.status === 'available',
  };
}
