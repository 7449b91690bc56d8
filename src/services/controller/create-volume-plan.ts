import { isNotFound } from '../../cinder/errors.js';
import type { RpcContext } from '../../util/context.js';
import { failedPrecondition, invalidArgument, notFound } from '../../util/errors.js';
import { META_CLUSTER, META_SOURCE_BACKUP, META_TOPOLOGY } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { parseMutableParameters, parseVolumeParameters } from './parameters.js';
import { chooseZone } from './topology.js';
import type { ContentSource, CreateVolumeInput, SizeRequest } from './requests.js';
import { parseSnapshotId } from './snapshot-ids.js';
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
  source?: PlanSource;
}

/** The Cinder object a new volume is made from, by its Cinder id. */
export interface PlanSource {
  kind: 'snapshot' | 'backup' | 'volume';
  id: string;
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

  const from = source ? await planSource(d, source, ctx) : undefined;
  // A snapshot restore or clone lands where its source is unless the StorageClass says
  // otherwise: Cinder refuses a zone other than the source's. A backup restores anywhere.
  const pinned = from !== undefined && from.kind !== 'backup';
  const zone = params.availability ?? (pinned ? undefined : chooseZone(undefined, req.topology));
  return {
    name,
    range,
    ...(params.volumeType ? { volumeType: params.volumeType } : {}),
    ...(zone ? { zone } : {}),
    zoneExplicit: params.availability !== undefined,
    multiattach,
    metadata: {
      ...params.metadata,
      [META_CLUSTER]: d.clusterId,
      ...(req.topology ? { [META_TOPOLOGY]: 'zone' } : {}),
      ...(from?.kind === 'backup' ? { [META_SOURCE_BACKUP]: from.id } : {}),
    },
    ...(from ? { source: from } : {}),
  };
}

/** A snapshot id names a Cinder snapshot or backup (snapshot-ids.ts); restoring a backup needs 3.47. */
async function planSource(d: HandlerDeps, source: ContentSource, ctx: RpcContext): Promise<PlanSource> {
  if (source.kind === 'volume') return source;
  const ref = parseSnapshotId(source.id);
  if (!ref) throw notFound(`source snapshot ${source.id} does not exist`);
  if (ref.kind !== 'backup') return ref;
  const features = await d.cinder.features(ctx);
  if (!features.volumeFromBackup) {
    throw failedPrecondition(
      `source snapshot ${source.id} is a Cinder backup; restoring one into a new volume needs Cinder API microversion 3.47, this Cinder offers up to ${features.serverMaxVersion}`,
    );
  }
  return ref;
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
