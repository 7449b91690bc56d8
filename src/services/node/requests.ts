import type { CapacityRange__Output } from '../../generated/csi/v1/CapacityRange.js';
import type { VolumeCapability__Output } from '../../generated/csi/v1/VolumeCapability.js';
import { validateFsType, type FsType } from '../../host/filesystem.js';
import { validateMountOptions } from '../../host/mounter.js';
import { invalidArgument, outOfRange } from '../../util/errors.js';

/**
 * Field checks shared by the node RPCs. Every missing or malformed field is INVALID_ARGUMENT
 * naming the field, before anything touches the host.
 */

export interface MountCapability {
  accessType: 'mount';
  fsType: FsType;
  /** Validated against the mount option allow-list. */
  mountFlags: string[];
  readOnly: boolean;
}
export interface BlockCapability {
  accessType: 'block';
  readOnly: boolean;
}
export type NodeCapability = MountCapability | BlockCapability;

const ACCESS_MODES: ReadonlySet<string> = new Set([
  'SINGLE_NODE_WRITER',
  'SINGLE_NODE_READER_ONLY',
  'SINGLE_NODE_SINGLE_WRITER',
  'SINGLE_NODE_MULTI_WRITER',
  'MULTI_NODE_READER_ONLY',
  'MULTI_NODE_SINGLE_WRITER',
  'MULTI_NODE_MULTI_WRITER',
]);
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
  const accessType = cap.access_type ?? (cap.mount ? 'mount' : cap.block ? 'block' : undefined);
  if (accessType === undefined) throw invalidArgument(`${field}.access_type (mount or block) is required`);
  const mode = String(cap.access_mode?.mode ?? 'UNKNOWN');
  if (!ACCESS_MODES.has(mode)) throw invalidArgument(`${field}.access_mode ${JSON.stringify(mode)} is not a valid access mode`);
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

/** Whether a staged volume can serve a new request without being staged differently. */
export function sameCapability(a: NodeCapability, b: NodeCapability): boolean {
  if (a.accessType !== b.accessType || a.readOnly !== b.readOnly) return false;
  if (a.accessType === 'block' || b.accessType === 'block') return true;
  return a.fsType === b.fsType && sameSet(a.mountFlags, b.mountFlags);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

/** int64 fields arrive as decimal strings; "0" or empty means "not set". */
export function optionalBytes(v: string | number | undefined, field: string): number | undefined {
  if (v === undefined || v === '' || v === '0' || v === 0) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw invalidArgument(`${field} ${JSON.stringify(v)} is not an integer byte count`);
  if (n < 0) throw invalidArgument(`${field} must not be negative`);
  return n;
}

export interface CapacityWanted {
  requiredBytes?: number;
  limitBytes?: number;
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
