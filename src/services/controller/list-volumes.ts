import type { RpcContext } from '../../util/context.js';
import { META_CLUSTER, META_DUPLICATE_OF } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { pageFrom } from './paging.js';
import type { Page, PageInput, VolumeEntry } from './requests.js';
import { toVolumeView } from './volume-view.js';
import { volumeStatusOf } from './volume-status.js';

/**
 * ListVolumes: this cluster's volumes only (Cinder's metadata filter on the cluster tag), paged
 * with Cinder markers inside an opaque token (tokens.ts). published_node_ids are the node ids
 * the CO used, recorded in volume metadata at publish (Cinder keeps only host names).
 */
export function listVolumesHandler(d: HandlerDeps) {
  return async (req: PageInput, ctx: RpcContext): Promise<Page<VolumeEntry>> => {
    const metadata = { [META_CLUSTER]: d.clusterId };
    const page = await pageFrom((q) => d.cinder.listVolumes({ metadata, ...q }, ctx), req.startingToken, req.maxEntries);
    const now = d.now();
    return {
      // Race losers (create-volume.ts) are ours but are no CSI volume.
      entries: page.items
        .filter((v) => !v.metadata[META_DUPLICATE_OF])
        .map((v) => ({ volume: toVolumeView(v, d.ignoreVolumeAz), status: volumeStatusOf(v, now) })),
      nextToken: page.nextToken,
    };
  };
}
