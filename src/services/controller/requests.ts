import type { AccessMode } from '../access-modes.js';
import type { CinderTime } from './cinder-time.js';

/**
 * The controller RPCs' requests and answers as the controller service takes and gives them. The
 * gRPC edge (src/csi/controller-requests.ts, src/csi/controller.ts) validates the proto requests
 * into these — every field present and well-formed — and turns the answers back into protos.
 * What needs Cinder to judge (a volume type, a source, a size against the volume's) is judged here.
 */

/** A well-formed volume capability; whether this driver and volume can serve it is asked later. */
export interface Capability {
  accessType: 'mount' | 'block';
  mode: AccessMode;
  /** As asked ('' = the default); the supported ones are checked by the service. */
  fsType: string;
}

/** int64 byte counts; 0 = not set. limitBytes, when set, is not below requiredBytes. */
export interface SizeRequest {
  requiredBytes: bigint;
  limitBytes: bigint;
}

export interface ContentSource {
  kind: 'snapshot' | 'volume';
  id: string;
}

/** Topology segments (key → value), as the CO gives them. */
export type Segments = Record<string, string>;

export interface TopologyWanted {
  requisite: Segments[];
  preferred: Segments[];
}

export interface CreateVolumeInput {
  name: string;
  /** At least one. */
  capabilities: Capability[];
  parameters: Record<string, string>;
  /** From a VolumeAttributesClass: its `type` wins over the StorageClass's. */
  mutableParameters: Record<string, string>;
  range: SizeRequest;
  source?: ContentSource;
  topology?: TopologyWanted;
}

export interface PublishInput {
  volumeId: string;
  nodeId: string;
  capability: Capability;
  readonly: boolean;
  volumeContext: Record<string, string>;
}

export interface UnpublishInput {
  volumeId: string;
  /** '' = from every node. */
  nodeId: string;
}

export interface ValidateInput {
  volumeId: string;
  capabilities: Capability[];
  parameters: Record<string, string>;
  mutableParameters: Record<string, string>;
  volumeContext: Record<string, string>;
}

export interface PageInput {
  maxEntries: number;
  startingToken: string;
}

export interface ListSnapshotsInput extends PageInput {
  sourceVolumeId: string;
  snapshotId: string;
}

export interface CapacityInput {
  /** May be empty: capacity for any capability. */
  capabilities: Capability[];
  parameters: Record<string, string>;
}

export interface SnapshotInput {
  name: string;
  sourceVolumeId: string;
  parameters: Record<string, string>;
}

export interface ModifyInput {
  volumeId: string;
  /** As the CO gives them; the service reads them (parameters.ts). */
  mutableParameters: Record<string, string>;
}

export interface ExpandInput {
  volumeId: string;
  /** Asks for a size (one end is set). */
  range: SizeRequest;
}

/** A Cinder volume as CSI describes it. */
export interface VolumeView {
  volumeId: string;
  capacityBytes: bigint;
  context: Record<string, string>;
  source?: ContentSource;
  topology: Segments[];
}

export interface VolumeCondition {
  abnormal: boolean;
  message: string;
}

export interface VolumeStatus {
  publishedNodeIds: string[];
  condition: VolumeCondition;
}

export interface VolumeEntry {
  volume: VolumeView;
  status: VolumeStatus;
}

export interface SnapshotView {
  snapshotId: string;
  sourceVolumeId: string;
  sizeBytes: bigint;
  createdAt?: CinderTime;
  readyToUse: boolean;
  /** The group snapshot it was cut in, if any. */
  groupSnapshotId?: string;
}

export interface GroupSnapshotInput {
  name: string;
  /** At least one, no repeats. */
  sourceVolumeIds: string[];
  parameters: Record<string, string>;
}

/** A Cinder group snapshot as CSI describes it: its member snapshots are ordinary snapshots. */
export interface GroupSnapshotView {
  groupSnapshotId: string;
  snapshots: SnapshotView[];
  createdAt?: CinderTime;
  readyToUse: boolean;
}

export interface Page<T> {
  entries: T[];
  nextToken: string;
}

export interface CapacityView {
  availableBytes: bigint;
  maximumVolumeBytes?: bigint;
  minimumVolumeBytes?: bigint;
}

/** Either every capability, parameter and context key fits the volume, or why not. */
export type Validation = { confirmed: true } | { confirmed: false; message: string };
