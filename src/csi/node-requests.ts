import type { CapacityRange__Output } from '../generated/csi/v1/CapacityRange.js';
import type { NodeExpandVolumeRequest__Output } from '../generated/csi/v1/NodeExpandVolumeRequest.js';
import type { NodeGetVolumeStatsRequest__Output } from '../generated/csi/v1/NodeGetVolumeStatsRequest.js';
import type { NodePublishVolumeRequest__Output } from '../generated/csi/v1/NodePublishVolumeRequest.js';
import type { NodeStageVolumeRequest__Output } from '../generated/csi/v1/NodeStageVolumeRequest.js';
import type { NodeUnpublishVolumeRequest__Output } from '../generated/csi/v1/NodeUnpublishVolumeRequest.js';
import type { NodeUnstageVolumeRequest__Output } from '../generated/csi/v1/NodeUnstageVolumeRequest.js';
import type { VolumeCapability__Output } from '../generated/csi/v1/VolumeCapability.js';
import { validateFsType, type FsType } from '../host/filesystem.js';
import { isMultiNodeMode, isReadOnlyMode, isSingleNodeWriterMode } from '../services/access-modes.js';
import { capabilityShape } from './capability.js';
import { validateMountOptions } from '../host/mounter.js';
import type {
  CapacityWanted,
  ExpandRequest,
  NodeCapability,
  PublishRequest,
  StageRequest,
  StatsRequest,
  UnpublishRequest,
  UnstageRequest,
} from '../services/node/requests.js';
import { invalidArgument } from '../util/errors.js';
import { parseCapacityRange } from './capacity-range.js';

/**
 * The node RPCs' requests, checked and turned into the node service's own types. Every missing
 * or malformed field is INVALID_ARGUMENT naming the field, before anything touches the host.
 */

/** CSI volume ids this driver hands out are Cinder UUIDs; anything printable and short is accepted. */
const MAX_VOLUME_ID_BYTES = 256;

export function requireVolumeId(v: string | undefined): string {
  if (!v) throw invalidArgument('volume_id is required');
  if (Buffer.byteLength(v) > MAX_VOLUME_ID_BYTES) throw invalidArgument(`volume_id is longer than ${MAX_VOLUME_ID_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f/]/.test(v)) throw invalidArgument('volume_id contains a control character or "/"');
  return v;
}

export function requireCapability(cap: VolumeCapability__Output | null | undefined, field = 'volume_capability'): NodeCapability {
  if (!cap) throw invalidArgument(`${field} is required`);
  const shape = capabilityShape(cap);
  if (!shape.ok) throw invalidArgument(`${field}.${shape.message}`);
  const { accessType, mode } = shape;
  const readOnly = isReadOnlyMode(mode);
  if (accessType === 'block') return { accessType, readOnly };
  // A file system mounted read-write on several nodes at once is corrupted (the controller
  // refuses it too; checked again here because the node is the one that would mount it).
  if (isMultiNodeMode(mode) && !readOnly) {
    throw invalidArgument(`${field}: ${mode} is only supported for block volumes`);
  }
  const mount = cap.mount;
  if (mount?.volume_mount_group) {
    throw invalidArgument(`${field}.mount.volume_mount_group is not supported by this plugin (no VOLUME_MOUNT_GROUP capability)`);
  }
  let fsType: FsType;
  try {
    fsType = validateFsType(mount?.fs_type ?? '');
  } catch (err) {
    throw invalidArgument(`${field}.mount.fs_type: ${(err as Error).message}`);
  }
  let mountFlags: string[];
  try {
    mountFlags = validateMountOptions(mount?.mount_flags ?? []);
  } catch (err) {
    throw invalidArgument(`${field}.mount.mount_flags: ${(err as Error).message}`);
  }
  return { accessType, fsType, mountFlags, readOnly };
}

/** The node compares sizes with block device sizes (numbers): a range beyond 2^53 is refused. */
export function capacityRange(range: CapacityRange__Output | null | undefined): CapacityWanted {
  const { requiredBytes, limitBytes } = parseCapacityRange(range);
  const safe = (n: bigint, field: string): number => {
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument(`${field} ${n} is too large`);
    return Number(n);
  };
  return {
    ...(requiredBytes > 0n ? { requiredBytes: safe(requiredBytes, 'capacity_range.required_bytes') } : {}),
    ...(limitBytes > 0n ? { limitBytes: safe(limitBytes, 'capacity_range.limit_bytes') } : {}),
  };
}

/** proto3 sends an absent string as "": the services see undefined. */
const given = (s: string | undefined): string | undefined => (s ? s : undefined);

export function parseStageRequest(req: NodeStageVolumeRequest__Output): StageRequest {
  const volumeId = requireVolumeId(req.volume_id);
  const capability = requireCapability(req.volume_capability);
  // Well-formed: requireCapability just read it.
  const shape = req.volume_capability ? capabilityShape(req.volume_capability) : undefined;
  return {
    volumeId,
    stagingTargetPath: given(req.staging_target_path),
    capability,
    singleNodeWriter: shape?.ok === true && isSingleNodeWriterMode(shape.mode),
    publishContext: req.publish_context ?? {},
    volumeContext: req.volume_context ?? {},
    secrets: req.secrets ?? {},
  };
}

export function parseUnstageRequest(req: NodeUnstageVolumeRequest__Output): UnstageRequest {
  return { volumeId: requireVolumeId(req.volume_id), stagingTargetPath: given(req.staging_target_path) };
}

export function parsePublishRequest(req: NodePublishVolumeRequest__Output): PublishRequest {
  return {
    volumeId: requireVolumeId(req.volume_id),
    targetPath: given(req.target_path),
    stagingTargetPath: given(req.staging_target_path),
    capability: requireCapability(req.volume_capability),
    readonly: req.readonly === true,
  };
}

export function parseUnpublishRequest(req: NodeUnpublishVolumeRequest__Output): UnpublishRequest {
  return { volumeId: requireVolumeId(req.volume_id), targetPath: given(req.target_path) };
}

export function parseStatsRequest(req: NodeGetVolumeStatsRequest__Output): StatsRequest {
  return { volumeId: requireVolumeId(req.volume_id), volumePath: given(req.volume_path), stagingTargetPath: given(req.staging_target_path) };
}

export function parseExpandRequest(req: NodeExpandVolumeRequest__Output): ExpandRequest {
  return {
    volumeId: requireVolumeId(req.volume_id),
    volumePath: given(req.volume_path),
    stagingTargetPath: given(req.staging_target_path),
    capacity: capacityRange(req.capacity_range),
    capability: req.volume_capability ? requireCapability(req.volume_capability) : undefined,
  };
}
