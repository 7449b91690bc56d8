import { isNotFound } from '../../cinder/errors.js';
import type { CreateVolumeRequest__Output } from '../../generated/csi/v1/CreateVolumeRequest.js';
import type { RpcContext } from '../../util/context.js';
import { invalidArgument } from '../../util/errors.js';
import { parseCapacityRange, type SizeRequest } from './capacity-range.js';
import { CINDER_META_MAX, META_CLUSTER, META_TOPOLOGY } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { parseVolumeParameters } from './parameters.js';
import { chooseZone } from './topology.js';
import { capabilityProblems, isMultiNode, requireCapabilities } from './volume-capabilities.js';

/** A validated CreateVolume request: everything the creation flow needs, nothing it must re-check. */
export interface CreatePlan {
  name: string;
  range: SizeRequest;
  volumeType?: string;
  /** Zone to ask Cinder for; `zoneExplicit` when it came from the `availability` parameter. */
  zone?: string;
  zoneExplicit: boolean;
  /** The request needs a multiattach volume (MULTI_NODE_* capabilities). */
  multiattach: boolean;
  metadata: Record<string, string>;
  source?: { kind: 'snapshot' | 'volume'; id: string };
}

function topologyRequested(req: CreateVolumeRequest__Output): boolean {
  const r = req.accessibility_requirements;
  return (r?.requisite?.length ?? 0) + (r?.preferred?.length ?? 0) > 0;
}

export async function planCreate(d: HandlerDeps, req: CreateVolumeRequest__Output, ctx: RpcContext): Promise<CreatePlan> {
  const name = req.name ?? '';
  if (name === '') throw invalidArgument('name is required');
  if (name.length > CINDER_META_MAX) throw invalidArgument(`name is longer than ${CINDER_META_MAX} characters (Cinder's limit)`);
  const caps = req.volume_capabilities ?? [];
  // Malformed capabilities are refused before anything is looked up.
  const malformed = capabilityProblems(caps, { multiattach: true }).find((p) => p.kind === 'malformed');
  if (malformed) throw invalidArgument(`volume_capabilities: ${malformed.message}`);
  const params = parseVolumeParameters(req.parameters);
  const range = parseCapacityRange(req.capacity_range);
  const source = contentSource(req);

  const multiattach = caps.some(isMultiNode);
  if (multiattach) await requireMultiattachType(d, params.volumeType, ctx);
  requireCapabilities(caps, { multiattach }, 'volume_capabilities');

  // A restore or clone lands where its source is unless the StorageClass says otherwise:
  // Cinder refuses a zone other than the source's.
  const zone = params.availability ?? (source ? undefined : chooseZone(undefined, req.accessibility_requirements));
  return {
    name,
    range,
    ...(params.volumeType ? { volumeType: params.volumeType } : {}),
    ...(zone ? { zone } : {}),
    zoneExplicit: params.availability !== undefined,
    multiattach,
    metadata: { ...params.metadata, [META_CLUSTER]: d.clusterId, ...(topologyRequested(req) ? { [META_TOPOLOGY]: 'zone' } : {}) },
    ...(source ? { source } : {}),
  };
}

function contentSource(req: CreateVolumeRequest__Output): CreatePlan['source'] {
  const src = req.volume_content_source;
  if (!src) return undefined;
  const kind = src.type ?? (src.snapshot ? 'snapshot' : src.volume ? 'volume' : undefined);
  if (kind === 'snapshot') {
    const id = src.snapshot?.snapshot_id ?? '';
    if (id === '') throw invalidArgument('volume_content_source.snapshot.snapshot_id is required');
    return { kind, id };
  }
  if (kind === 'volume') {
    const id = src.volume?.volume_id ?? '';
    if (id === '') throw invalidArgument('volume_content_source.volume.volume_id is required');
    return { kind, id };
  }
  throw invalidArgument('volume_content_source must name a snapshot or a volume');
}

async function requireMultiattachType(d: HandlerDeps, volumeType: string | undefined, ctx: RpcContext): Promise<void> {
  const why = 'MULTI_NODE access modes need a Cinder volume type with the extra spec multiattach="<is> True"';
  if (!volumeType) throw invalidArgument(`${why}; set the StorageClass parameter "type" to one`);
  let multi: boolean;
  try {
    multi = (await d.cinder.getVolumeType(volumeType, ctx)).isMultiattach;
  } catch (err) {
    if (isNotFound(err)) throw invalidArgument(`volume type ${JSON.stringify(volumeType)} does not exist`);
    throw err;
  }
  if (!multi) throw invalidArgument(`${why}; volume type ${JSON.stringify(volumeType)} is not multiattach`);
}
