import type { ListVolumesRequest__Output } from '../../generated/csi/v1/ListVolumesRequest.js';
import type { ListVolumesResponse } from '../../generated/csi/v1/ListVolumesResponse.js';
import type { RpcContext } from '../../util/context.js';
import { META_CLUSTER } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { META_DUPLICATE_OF } from './lookup.js';
import { checkMaxEntries, pageFrom } from './paging.js';
import { toCsiVolume } from './volume-view.js';
import { volumeStatusOf } from './volume-status.js';

/**
 * ListVolumes: this cluster's volumes only (Cinder's metadata filter on the cluster tag), paged
 * with Cinder markers inside an opaque token (tokens.ts). published_node_ids are the node ids
 * the CO used, recorded in volume metadata at publish (Cinder keeps only host names).
 */
export function listVolumesHandler(d: HandlerDeps) {
  return async (req: ListVolumesRequest__Output, ctx: RpcContext): Promise<ListVolumesResponse> => {
    const max = checkMaxEntries(req.max_entries);
    const metadata = { [META_CLUSTER]: d.clusterId };
    const page = await pageFrom((q) => d.cinder.listVolumes({ metadata, ...q }, ctx), req.starting_token, max);
    const now = d.now();
    return {
      // Race losers (create-volume.ts) are ours but are no CSI volume.
      entries: page.items
        .filter((v) => !v.metadata[META_DUPLICATE_OF])
        .map((v) => ({ volume: toCsiVolume(v, d.ignoreVolumeAz), status: volumeStatusOf(v, now) })),
      next_token: page.nextToken,
    };
  };
}
