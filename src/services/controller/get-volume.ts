import type { ControllerGetVolumeRequest__Output } from '../../generated/csi/v1/ControllerGetVolumeRequest.js';
import type { ControllerGetVolumeResponse } from '../../generated/csi/v1/ControllerGetVolumeResponse.js';
import type { RpcContext } from '../../util/context.js';
import { invalidArgument, notFound } from '../../util/errors.js';
import type { HandlerDeps } from './deps.js';
import { findVolume } from './lookup.js';
import { toCsiVolume } from './volume-view.js';
import { volumeStatusOf } from './volume-status.js';

/** ControllerGetVolume: the volume as CreateVolume reported it, its published nodes and condition. */
export function getVolumeHandler(d: HandlerDeps) {
  return async (req: ControllerGetVolumeRequest__Output, ctx: RpcContext): Promise<ControllerGetVolumeResponse> => {
    const volumeId = req.volume_id ?? '';
    if (volumeId === '') throw invalidArgument('volume_id is required');
    const vol = await findVolume(d.cinder, volumeId, ctx);
    if (!vol) throw notFound(`volume ${volumeId} does not exist`);
    return { volume: toCsiVolume(vol, d.ignoreVolumeAz), status: volumeStatusOf(vol, d.now()) };
  };
}
