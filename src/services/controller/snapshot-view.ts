import type { Snapshot } from '../../cinder/types.js';
import type { Snapshot as CsiSnapshot } from '../../generated/csi/v1/Snapshot.js';
import { gibToBytes } from './capacity-range.js';
import { parseCinderTime, toTimestamp } from './cinder-time.js';

/** A Cinder snapshot as CSI reports it; ready_to_use only once Cinder says `available`. */
export function toCsiSnapshot(s: Snapshot): CsiSnapshot {
  const created = parseCinderTime(s.createdAt);
  return {
    snapshot_id: s.id,
    source_volume_id: s.volumeId,
    size_bytes: gibToBytes(s.size),
    creation_time: created ? toTimestamp(created) : null,
    ready_to_use: s.status === 'available',
  };
}
