import type { Volume } from '../../cinder/types.js';
import type { Volume as CsiVolume } from '../../generated/csi/v1/Volume.js';
import type { VolumeContentSource } from '../../generated/csi/v1/VolumeContentSource.js';
import { gibToBytes } from './capacity-range.js';
import { CTX_SOURCE, META_TOPOLOGY } from './constants.js';
import { accessibleTopology } from './topology.js';

/**
 * A Cinder volume as CSI reports it. Everything is derived from the Cinder object, so every RPC
 * (Create, List, Get) reports the same volume the same way and nothing depends on memory.
 */

/** Small and non-secret: only what the node needs (a restored/cloned filesystem must not be
 * reformatted, and xfs needs `nouuid` to mount a copy next to its original). */
export function volumeContextOf(vol: Volume): Record<string, string> {
  if (vol.snapshotId) return { [CTX_SOURCE]: 'snapshot' };
  if (vol.sourceVolId) return { [CTX_SOURCE]: 'volume' };
  return {};
}

export function contentSourceOf(vol: Volume): VolumeContentSource | null {
  if (vol.snapshotId) return { type: 'snapshot', snapshot: { snapshot_id: vol.snapshotId } };
  if (vol.sourceVolId) return { type: 'volume', volume: { volume_id: vol.sourceVolId } };
  return null;
}

export function toCsiVolume(vol: Volume, ignoreVolumeAz: boolean): CsiVolume {
  return {
    volume_id: vol.id,
    capacity_bytes: gibToBytes(vol.size),
    volume_context: volumeContextOf(vol),
    content_source: contentSourceOf(vol),
    accessible_topology: accessibleTopology(vol.availabilityZone, ignoreVolumeAz || vol.metadata[META_TOPOLOGY] === undefined),
  };
}
