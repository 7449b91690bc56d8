import type { CapacityRange__Output } from '../generated/csi/v1/CapacityRange.js';
import type { NodeExpandVolumeRequest__Output } from '../generated/csi/v1/NodeExpandVolumeRequest.js';
import type { NodeGetVolumeStatsRequest__Output } from '../generated/csi/v1/NodeGetVolumeStatsRequest.js';
import type { NodePublishVolumeRequest__Output } from '../generated/csi/v1/NodePublishVolumeRequest.js';
import type { NodeStageVolumeRequest__Output } from '../generated/csi/v1/NodeStageVolumeRequest.js';
import type { NodeUnpublishVolumeRequest__Output } from '../generated/csi/v1/NodeUnpublishVolumeRequest.js';
import type { NodeUnstageVolumeRequest__Output } from '../generated/csi/v1/NodeUnstageVolumeRequest.js';
import type { VolumeCapability__Output } from '../generated/csi/v1/VolumeCapability.js';
import { validateFsType, type FsType } from '../host/filesystem.js';
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
import { invalidArgument, outOfRange } from '../util/errors.js';

/**
 * The node RPCs' requests, checked and turned into the node service's own types. Every missing
 * or malformed field is INVALID_ARGUMENT naming the field, before anything touches the host.
 */

const READ_ONLY_MODES: ReadonlySet<string> = new Set(['SINGLE_NODE_READER_ONLY', 'MULTI_NODE_READER_ONLY']);

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
  const readOnly = READ_ONLY_MODES.has(mode);
  if (accessType === 'block') return { accessType, readOnly };
  // A file system mounted read-write on several nodes at once is corrupted (the controller
  // refuses it too; checked again here because the node is the one that would mount it).
  if (mode.startsWith('MULTI_NODE_') && mode !== 'MULTI_NODE_READER_ONLY') {
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

function modeOf(cap: VolumeCapability__Output | null | undefined): string {
  return String(cap?.access_mode?.mode ?? 'UNKNOWN');
}

/** int64 fields arrive as decimal strings; "0" or empty means "not set". */
export function optionalBytes(v: string | number | undefined, field: string): number | undefined {
  if (v === undefined || v === '' || v === '0' || v === 0) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw invalidArgument(`${field} ${JSON.stringify(v)} is not an integer byte count`);
  if (n < 0) throw invalidArgument(`${field} must not be negative`);
  return n;
}

export function capacityRange(range: CapacityRange__Output | null | undefined): CapacityWanted {
  if (!range) return {};
  const requiredBytes = optionalBytes(range.required_bytes, 'capacity_range.required_bytes');
  const limitBytes = optionalBytes(range.limit_bytes, 'capacity_range.limit_bytes');
  if (requiredBytes !== undefined && limitBytes !== undefined && limitBytes < requiredBytes) {
    throw outOfRange(`capacity_range.limit_bytes ${limitBytes} is below required_bytes ${requiredBytes}`);
  }
  return {
    ...(requiredBytes !== undefined ? { requiredBytes } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
  };
}

/** proto3 sends an absent string as "": the services see undefined. */
const given = (s: string | undefined): string | undefined => (s ? s : undefined);

export function parseStageRequest(req: NodeStageVolumeRequest__Output): StageRequest {
  const volumeId = requireVolumeId(req.volume_id);
  const capability = requireCapability(req.volume_capability);
  const mode = modeOf(req.volume_capability);
  return {
    volumeId,
    stagingTargetPath: given(req.staging_target_path),
    capability,
    singleNodeWriter: mode.startsWith('SINGLE_NODE_') && mode !== 'SINGLE_NODE_READER_ONLY',
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
