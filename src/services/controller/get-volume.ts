import type { RpcContext } from '../../util/context.js';
import { notFound } from '../../util/errors.js';
import type { HandlerDeps } from './deps.js';
import { findVolume } from './lookup.js';
import type { VolumeEntry } from './requests.js';
import { toVolumeView } from './volume-view.js';
import { volumeStatusOf } from './volume-status.js';

/** ControllerGetVolume: the volume as CreateVolume reported it, its published nodes and condition. */
export function getVolumeHandler(d: HandlerDeps) {
  return async (volumeId: string, ctx: RpcContext): Promise<VolumeEntry> => {
    const vol = await findVolume(d.cinder, volumeId, ctx);
    if (!vol) throw notFound(`volume ${volumeId} does not exist`);
    return { volume: toVolumeView(vol, d.ignoreVolumeAz), status: volumeStatusOf(vol, d.now()) };
  };
}
