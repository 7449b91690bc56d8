import { isNotFound } from '../../cinder/errors.js';
import type { RpcContext } from '../../util/context.js';
import { invalidArgument } from '../../util/errors.js';
import { META_CLUSTER, META_TOPOLOGY } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { parseMutableParameters, parseVolumeParameters } from './parameters.js';
import { chooseZone } from './topology.js';
import type { ContentSource, CreateVolumeInput, SizeRequest } from './requests.js';
import { isMultiNode, requireCapabilities } from './volume-capabilities.js';

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
  source?: ContentSource;
}

export async function planCreate(d: HandlerDeps, req: CreateVolumeInput, ctx: RpcContext): Promise<CreatePlan> {
  const { name, capabilities: caps, range, source } = req;
  const params = parseVolumeParameters(req.parameters);
  // The class the PVC names is the newer intent: its type is the volume's.
  const mutable = parseMutableParameters(req.mutableParameters);
  if (mutable.volumeType !== undefined) params.volumeType = mutable.volumeType;

  const multiattach = caps.some(isMultiNode);
  if (multiattach) await requireMultiattachType(d, params.volumeType, ctx);
  requireCapabilities(caps, { multiattach }, 'volume_capabilities');

  // A restore or clone lands where its source is unless the StorageClass says otherwise:
  // Cinder refuses a zone other than the source's.
  const zone = params.availability ?? (source ? undefined : chooseZone(undefined, req.topology));
  return {
    name,
    range,
    ...(params.volumeType ? { volumeType: params.volumeType } : {}),
    ...(zone ? { zone } : {}),
    zoneExplicit: params.availability !== undefined,
    multiattach,
    metadata: { ...params.metadata, [META_CLUSTER]: d.clusterId, ...(req.topology ? { [META_TOPOLOGY]: 'zone' } : {}) },
    ...(source ? { source } : {}),
  };
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
