import type { ControllerExpandVolumeRequest__Output } from '../generated/csi/v1/ControllerExpandVolumeRequest.js';
import type { ControllerPublishVolumeRequest__Output } from '../generated/csi/v1/ControllerPublishVolumeRequest.js';
import type { ControllerUnpublishVolumeRequest__Output } from '../generated/csi/v1/ControllerUnpublishVolumeRequest.js';
import type { CreateSnapshotRequest__Output } from '../generated/csi/v1/CreateSnapshotRequest.js';
import type { CreateVolumeRequest__Output } from '../generated/csi/v1/CreateVolumeRequest.js';
import type { GetCapacityRequest__Output } from '../generated/csi/v1/GetCapacityRequest.js';
import type { ListSnapshotsRequest__Output } from '../generated/csi/v1/ListSnapshotsRequest.js';
import type { ListVolumesRequest__Output } from '../generated/csi/v1/ListVolumesRequest.js';
import type { Topology__Output } from '../generated/csi/v1/Topology.js';
import type { TopologyRequirement__Output } from '../generated/csi/v1/TopologyRequirement.js';
import type { ValidateVolumeCapabilitiesRequest__Output } from '../generated/csi/v1/ValidateVolumeCapabilitiesRequest.js';
import { CINDER_META_MAX } from '../services/controller/constants.js';
import type {
  CapacityInput,
  ContentSource,
  CreateVolumeInput,
  ExpandInput,
  ListSnapshotsInput,
  PageInput,
  PublishInput,
  Segments,
  SnapshotInput,
  TopologyWanted,
  UnpublishInput,
  ValidateInput,
} from '../services/controller/requests.js';
import { invalidArgument } from '../util/errors.js';
import { parseCapacityRange } from './capacity-range.js';
import { parseCapabilities, parseCapability } from './capability.js';

/**
 * The controller RPCs' requests, checked and turned into the controller service's own types.
 * A missing or malformed field is INVALID_ARGUMENT naming it, before Cinder is asked anything.
 */

export function requireId(v: string | undefined, field: string): string {
  if (!v) throw invalidArgument(`${field} is required`);
  return v;
}

/** A CSI name becomes the Cinder object's name: Cinder's length limit applies. */
export function requireName(v: string | undefined): string {
  const name = requireId(v, 'name');
  if (name.length > CINDER_META_MAX) throw invalidArgument(`name is longer than ${CINDER_META_MAX} characters (Cinder's limit)`);
  return name;
}

export function checkMaxEntries(maxEntries: number | undefined): number {
  const n = maxEntries ?? 0;
  if (!Number.isInteger(n) || n < 0) throw invalidArgument('max_entries must not be negative');
  return n;
}

function contentSource(req: CreateVolumeRequest__Output): ContentSource | undefined {
  const src = req.volume_content_source;
  if (!src) return undefined;
  const kind = src.type ?? (src.snapshot ? 'snapshot' : src.volume ? 'volume' : undefined);
  if (kind === 'snapshot') return { kind, id: requireId(src.snapshot?.snapshot_id, 'volume_content_source.snapshot.snapshot_id') };
  if (kind === 'volume') return { kind, id: requireId(src.volume?.volume_id, 'volume_content_source.volume.volume_id') };
  throw invalidArgument('volume_content_source must name a snapshot or a volume');
}

const segmentsOf = (ts: readonly Topology__Output[] | undefined): Segments[] => (ts ?? []).map((t) => ({ ...(t.segments ?? {}) }));

function topologyWanted(r: TopologyRequirement__Output | null | undefined): TopologyWanted | undefined {
  if (!r) return undefined;
  const wanted = { requisite: segmentsOf(r.requisite), preferred: segmentsOf(r.preferred) };
  return wanted.requisite.length + wanted.preferred.length > 0 ? wanted : undefined;
}

export function parseCreateVolume(req: CreateVolumeRequest__Output): CreateVolumeInput {
  const name = requireName(req.name);
  const capabilities = parseCapabilities(req.volume_capabilities, 'volume_capabilities', true);
  const range = parseCapacityRange(req.capacity_range);
  const source = contentSource(req);
  const topology = topologyWanted(req.accessibility_requirements);
  return {
    name,
    capabilities,
    parameters: req.parameters ?? {},
    mutableParameters: req.mutable_parameters ?? {},
    range,
    ...(source ? { source } : {}),
    ...(topology ? { topology } : {}),
  };
}

export function parsePublish(req: ControllerPublishVolumeRequest__Output): PublishInput {
  const volumeId = requireId(req.volume_id, 'volume_id');
  const nodeId = requireId(req.node_id, 'node_id');
  const capability = parseCapability(req.volume_capability, 'volume_capability');
  return { volumeId, nodeId, capability, readonly: req.readonly === true, volumeContext: req.volume_context ?? {} };
}

export function parseUnpublish(req: ControllerUnpublishVolumeRequest__Output): UnpublishInput {
  return { volumeId: requireId(req.volume_id, 'volume_id'), nodeId: req.node_id ?? '' };
}

export function parseValidate(req: ValidateVolumeCapabilitiesRequest__Output): ValidateInput {
  const volumeId = requireId(req.volume_id, 'volume_id');
  const capabilities = parseCapabilities(req.volume_capabilities, 'volume_capabilities', true);
  return { volumeId, capabilities, parameters: req.parameters ?? {}, mutableParameters: req.mutable_parameters ?? {}, volumeContext: req.volume_context ?? {} };
}

export function parseListVolumes(req: ListVolumesRequest__Output): PageInput {
  return { maxEntries: checkMaxEntries(req.max_entries), startingToken: req.starting_token ?? '' };
}

export function parseListSnapshots(req: ListSnapshotsRequest__Output): ListSnapshotsInput {
  return {
    maxEntries: checkMaxEntries(req.max_entries),
    startingToken: req.starting_token ?? '',
    sourceVolumeId: req.source_volume_id ?? '',
    snapshotId: req.snapshot_id ?? '',
  };
}

export function parseGetCapacity(req: GetCapacityRequest__Output): CapacityInput {
  return { capabilities: parseCapabilities(req.volume_capabilities, 'volume_capabilities', false), parameters: req.parameters ?? {} };
}

export function parseCreateSnapshot(req: CreateSnapshotRequest__Output): SnapshotInput {
  const name = requireName(req.name);
  return { name, sourceVolumeId: requireId(req.source_volume_id, 'source_volume_id'), parameters: req.parameters ?? {} };
}

export function parseExpand(req: ControllerExpandVolumeRequest__Output): ExpandInput {
  const volumeId = requireId(req.volume_id, 'volume_id');
  if (!req.capacity_range) throw invalidArgument('capacity_range is required');
  const range = parseCapacityRange(req.capacity_range);
  if (range.requiredBytes === 0n && range.limitBytes === 0n) throw invalidArgument('capacity_range must ask for a size');
  // Checked for its form only: the node grows what the controller expanded, whatever the access.
  if (req.volume_capability) parseCapability(req.volume_capability, 'volume_capability');
  return { volumeId, range };
}
