import { FS_TYPES } from '../../host/filesystem.js';
import { failedPrecondition, invalidArgument } from '../../util/errors.js';
import { isMultiNodeMode, isReadOnlyMode as readOnly } from '../access-modes.js';
import type { Capability } from './requests.js';

/**
 * Which volume capabilities this driver serves. Single-node modes work for any volume, mount or
 * block. MULTI_NODE_* modes need a Cinder volume that may be attached to several hosts at once
 * (a multiattach type), and only as raw block: none of the allowed filesystems survives being
 * mounted on two nodes, so offering it would corrupt data. (A malformed capability never gets
 * here: the gRPC edge refuses it.)
 */
/** '' is the default (ext4, on the node). */
export const ALLOWED_FS_TYPES: readonly string[] = ['', ...FS_TYPES];

/** What is known about the volume a capability is checked against. */
export interface CapabilityTarget {
  /** Whether Cinder lets the volume attach to several hosts (type extra spec / volume.multiattach). */
  multiattach: boolean;
}

export function isMultiNode(cap: Capability): boolean {
  return isMultiNodeMode(cap.mode);
}

export function isReadOnlyMode(cap: Capability): boolean {
  return readOnly(cap.mode);
}

/** Why this driver cannot serve the capability on such a volume; undefined when it can. */
export function capabilityProblem(cap: Capability, target: CapabilityTarget): string | undefined {
  if (cap.accessType === 'mount' && !ALLOWED_FS_TYPES.includes(cap.fsType)) {
    return `fs_type ${JSON.stringify(cap.fsType)} is not supported (allowed: ${ALLOWED_FS_TYPES.filter(Boolean).join(', ')})`;
  }
  if (isMultiNode(cap)) {
    if (cap.accessType === 'mount') {
      return `${cap.mode} is only supported for block volumes: a filesystem mounted on several nodes would be corrupted`;
    }
    if (!target.multiattach) {
      return `${cap.mode} needs a multiattach Cinder volume type (set the StorageClass parameter "type" to one)`;
    }
  }
  return undefined;
}

/** All problems of a capability list, in order. */
export function capabilityProblems(caps: readonly Capability[], target: CapabilityTarget): string[] {
  return caps.map((c) => capabilityProblem(c, target)).filter((p): p is string => p !== undefined);
}

/**
 * Throws for the first problem. `unsupportedAs` decides the code: CreateVolume asks for
 * something it cannot make (INVALID_ARGUMENT); ControllerPublish asks an existing volume for what
 * it is not (FAILED_PRECONDITION).
 */
export function requireCapabilities(
  caps: readonly Capability[],
  target: CapabilityTarget,
  field: string,
  unsupportedAs: 'invalid' | 'precondition' = 'invalid',
): void {
  const [first] = capabilityProblems(caps, target);
  if (first === undefined) return;
  const message = `${field}: ${first}`;
  throw unsupportedAs === 'precondition' ? failedPrecondition(message) : invalidArgument(message);
}
