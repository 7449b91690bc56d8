import type { Volume } from '../../cinder/types.js';
import { gibToBytes } from './capacity-range.js';
import { CTX_MULTIATTACH, CTX_SHARED_TARGETS, CTX_SOURCE, META_SOURCE_BACKUP, META_TOPOLOGY } from './constants.js';
import { backupSnapshotId } from './snapshot-ids.js';
import type { ContentSource, VolumeView } from './requests.js';
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
  else if (vol.metadata[META_SOURCE_BACKUP]) ctx[CTX_SOURCE] = 'backup';
  else if (vol.sourceVolId) ctx[CTX_SOURCE] = 'volume';
  return ctx;
}

function contentSourceOf(vol: Volume): ContentSource | undefined {
  if (vol.snapshotId) return { kind: 'snapshot', id: vol.snapshotId };
  const backup = vol.metadata[META_SOURCE_BACKUP];
  if (backup) return { kind: 'snapshot', id: backupSnapshotId(backup) };
  if (vol.sourceVolId) return { kind: 'volume', id: vol.sourceVolId };
  return undefined;
}

export function toVolumeView(vol: Volume, ignoreVolumeAz: boolean): VolumeView {
  const source = contentSourceOf(vol);
  return {
    volumeId: vol.id,
    capacityBytes: gibToBytes(vol.size),
    context: volumeContextOf(vol),
    ...(source ? { source } : {}),
    topology: accessibleTopology(vol.availabilityZone, ignoreVolumeAz || vol.metadata[META_TOPOLOGY] === undefined),
  };
}
