import type { FsType } from '../../host/filesystem.js';

/**
 * The node RPCs' requests as the node service takes them: already validated at the gRPC edge
 * (src/csi/node-requests.ts), so every field here is present and well-formed. Paths stay raw:
 * whether they lie under the kubelet directory is a question about this host, asked by the
 * service (paths.ts) with the field's name.
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

/** A byte range of which either end may be absent ("not set"). */
export interface CapacityWanted {
  requiredBytes?: number;
  limitBytes?: number;
}

export interface StageRequest {
  volumeId: string;
  stagingTargetPath: string | undefined;
  capability: NodeCapability;
  /** A SINGLE_NODE_* writer mode: the RBD map may insist on being the image's only client. */
  singleNodeWriter: boolean;
  publishContext: Record<string, string>;
  volumeContext: Record<string, string>;
  secrets: Record<string, string>;
}

export interface UnstageRequest {
  volumeId: string;
  stagingTargetPath: string | undefined;
}

export interface PublishRequest {
  volumeId: string;
  targetPath: string | undefined;
  /** Absent is FAILED_PRECONDITION, not INVALID_ARGUMENT: the service says so. */
  stagingTargetPath: string | undefined;
  capability: NodeCapability;
  readonly: boolean;
}

export interface UnpublishRequest {
  volumeId: string;
  targetPath: string | undefined;
}

export interface StatsRequest {
  volumeId: string;
  volumePath: string | undefined;
  stagingTargetPath: string | undefined;
}

export interface ExpandRequest {
  volumeId: string;
  volumePath: string | undefined;
  stagingTargetPath: string | undefined;
  capacity: CapacityWanted;
  capability: NodeCapability | undefined;
}

/** A volume's usage in one unit; counts the node cannot tell are left out. */
export interface Usage {
  unit: 'BYTES' | 'INODES';
  total: number;
  available?: number;
  used?: number;
}

export interface VolumeStats {
  usage: Usage[];
  condition: { abnormal: boolean; message: string };
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
