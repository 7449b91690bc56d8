import type { Volume } from '../../cinder/types.js';
import type { Volume as CsiVolume } from '../../generated/csi/v1/Volume.js';
import type { VolumeContentSource } from '../../generated/csi/v1/VolumeContentSource.js';
import { gibToBytes } from './capacity-range.js';
import { CTX_MULTIATTACH, CTX_SHARED_TARGETS, CTX_SOURCE, META_TOPOLOGY } from './constants.js';
import { accessibleTopology } from './topology.js';

/**
 * A Cinder volume as CSI reports it. Everything is derived from the Cinder object, so every RPC
 * (Create, List, Get) reports the same volume the same way and nothing depends on memory.
 */

/** Small and non-secret: what the node needs (a restored/cloned filesystem must not be
 * reformatted, and xfs needs `nouuid` to mount a copy next to its original) and what lets
 * ControllerPublish skip a read (multiattach, shared targets). */
export function volumeContextOf(vol: Volume): Record<string, string> {
  const ctx: Record<string, string> = { [CTX_MULTIATTACH]: String(vol.multiattach) };
  // Before Cinder's last create save (which sets service_uuid) shared_targets is the column's
  // default, not the driver's answer: a context must not carry a value that changes later.
  if (vol.sharedTargets !== undefined && vol.serviceUuid !== undefined) ctx[CTX_SHARED_TARGETS] = String(vol.sharedTargets);
  if (vol.snapshotId) ctx[CTX_SOURCE] = 'snapshot';
  else if (vol.sourceVolId) ctx[CTX_SOURCE] = 'volume';
  return ctx;
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
