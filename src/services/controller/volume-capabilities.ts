import type { VolumeCapability__Output } from '../../generated/csi/v1/VolumeCapability.js';
import { failedPrecondition, invalidArgument } from '../../util/errors.js';

/**
 * Which volume capabilities this driver serves. Single-node modes work for any volume, mount or
 * block. MULTI_NODE_* modes need a Cinder volume that may be attached to several hosts at once
 * (a multiattach type), and only as raw block: none of the allowed filesystems survives being
 * mounted on two nodes, so offering it would corrupt data.
 */
export const ALLOWED_FS_TYPES: readonly string[] = ['', 'ext4', 'ext3', 'xfs', 'btrfs'];

const SINGLE_NODE_MODES: ReadonlySet<string> = new Set([
  'SINGLE_NODE_WRITER',
  'SINGLE_NODE_READER_ONLY',
  'SINGLE_NODE_SINGLE_WRITER',
  'SINGLE_NODE_MULTI_WRITER',
]);
const MULTI_NODE_MODES: ReadonlySet<string> = new Set([
  'MULTI_NODE_READER_ONLY',
  'MULTI_NODE_SINGLE_WRITER',
  'MULTI_NODE_MULTI_WRITER',
]);
const READ_ONLY_MODES: ReadonlySet<string> = new Set(['SINGLE_NODE_READER_ONLY', 'MULTI_NODE_READER_ONLY']);

/** What is known about the volume a capability is checked against. */
export interface CapabilityTarget {
  /** Whether Cinder lets the volume attach to several hosts (type extra spec / volume.multiattach). */
  multiattach: boolean;
}

/**
 * `malformed`: the capability itself is wrong (always INVALID_ARGUMENT).
 * `unsupported`: well-formed, but this volume (or driver) cannot serve it.
 */
export interface CapabilityProblem {
  kind: 'malformed' | 'unsupported';
  message: string;
}

export function modeOf(cap: VolumeCapability__Output): string {
  return String(cap.access_mode?.mode ?? 'UNKNOWN');
}

export function isMultiNode(cap: VolumeCapability__Output): boolean {
  return MULTI_NODE_MODES.has(modeOf(cap));
}

export function isReadOnlyMode(cap: VolumeCapability__Output): boolean {
  return READ_ONLY_MODES.has(modeOf(cap));
}

export function capabilityProblem(cap: VolumeCapability__Output, target: CapabilityTarget): CapabilityProblem | undefined {
  const accessType = cap.access_type ?? (cap.mount ? 'mount' : cap.block ? 'block' : undefined);
  if (accessType === undefined) return { kind: 'malformed', message: 'access_type (mount or block) is required' };
  const mode = modeOf(cap);
  if (!SINGLE_NODE_MODES.has(mode) && !MULTI_NODE_MODES.has(mode)) {
    return { kind: 'malformed', message: `access_mode ${JSON.stringify(mode)} is not a valid access mode` };
  }
  if (accessType === 'mount') {
    const fsType = cap.mount?.fs_type ?? '';
    if (!ALLOWED_FS_TYPES.includes(fsType)) {
      return {
        kind: 'unsupported',
        message: `fs_type ${JSON.stringify(fsType)} is not supported (allowed: ${ALLOWED_FS_TYPES.filter(Boolean).join(', ')})`,
      };
    }
  }
  if (MULTI_NODE_MODES.has(mode)) {
    if (accessType === 'mount') {
      return { kind: 'unsupported', message: `${mode} is only supported for block volumes: a filesystem mounted on several nodes would be corrupted` };
    }
    if (!target.multiattach) {
      return { kind: 'unsupported', message: `${mode} needs a multiattach Cinder volume type (set the StorageClass parameter "type" to one)` };
    }
  }
  return undefined;
}

/** All problems of a capability list, in order; an empty list is itself a problem. */
export function capabilityProblems(caps: readonly VolumeCapability__Output[], target: CapabilityTarget): CapabilityProblem[] {
  if (caps.length === 0) return [{ kind: 'malformed', message: 'at least one volume capability is required' }];
  return caps.map((c) => capabilityProblem(c, target)).filter((p): p is CapabilityProblem => p !== undefined);
}

/**
 * Throws for the first problem. `unsupportedAs` decides the code of an unsupported capability:
 * CreateVolume asks for something it cannot make (INVALID_ARGUMENT); ControllerPublish asks an
 * existing volume for what it is not (FAILED_PRECONDITION).
 */
export function requireCapabilities(
  caps: readonly VolumeCapability__Output[],
  target: CapabilityTarget,
  field: string,
  unsupportedAs: 'invalid' | 'precondition' = 'invalid',
): void {
  const [first] = capabilityProblems(caps, target);
  if (!first) return;
  const message = `${field}: ${first.message}`;
  throw first.kind === 'unsupported' && unsupportedAs === 'precondition' ? failedPrecondition(message) : invalidArgument(message);
}
