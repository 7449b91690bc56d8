import { isOutcomeUnknown } from '../../cinder/errors.js';
import type { Volume } from '../../cinder/types.js';
import type { RpcContext } from '../../util/context.js';
import { aborted, failedPrecondition, internal, notFound, outOfRange } from '../../util/errors.js';
import { chooseSizeGiB, gibToBytes } from './capacity-range.js';
import { GIB } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { findVolume } from './lookup.js';
import type { ExpandInput } from './requests.js';
import { waitWithin } from './wait.js';

/**
 * ControllerExpandVolume: grows the Cinder volume to the whole GiB at or above required_bytes,
 * offline, or in-use from microversion 3.42 (below: FAILED_PRECONDITION). Waits within the
 * deadline, else ABORTED; an expand that is already done answers the real size.
 *
 * node_expansion_required is always true: a mounted filesystem must be grown on the node, and
 * a raw block device too needs the node — an in-use iSCSI LUN keeps its old size on the host
 * until the SCSI device (and its multipath map) is rescanned, which only the node can do.
 */
export function expandHandler(d: HandlerDeps) {
  return async (req: ExpandInput, ctx: RpcContext): Promise<ExpandResult> => {
    const { volumeId, range } = req;
    let vol = await findVolume(d.cinder, volumeId, ctx);
    if (!vol) throw notFound(`volume ${volumeId} does not exist`);
    const target = chooseSizeGiB(range);

    if (vol.status === 'extending') vol = await settle(d, vol, target, ctx);
    if (vol.size >= target) {
      if (range.limitBytes > 0n && BigInt(vol.size) * GIB > range.limitBytes) {
        throw outOfRange(`volume ${volumeId} is already ${vol.size} GiB, above limit_bytes ${range.limitBytes}; volumes cannot shrink`);
      }
      return done(vol);
    }
    if (vol.status === 'in-use') {
      const f = await d.cinder.features(ctx);
      if (!f.inUseExtend) {
        throw failedPrecondition(`volume ${volumeId} is in use; expanding it online needs Cinder API microversion 3.42 (this Cinder offers ${f.serverMaxVersion})`);
      }
    } else if (vol.status !== 'available') {
      throw failedPrecondition(`volume ${volumeId} is ${vol.status}; it can be expanded when available or in-use`);
    }
    try {
      await d.cinder.extendVolume(volumeId, target, ctx);
    } catch (err) {
      // A lost reply: the extend may have started. The wait below tells.
      if (!isOutcomeUnknown(err)) throw err;
    }
    const after = await settle(d, { ...vol, status: 'extending' }, target, ctx);
    // E.g. a lost reply of a request that never arrived: nothing grew, the retry extends again.
    if (after.size < target) throw aborted(`volume ${volumeId} is still ${after.size} GiB after the extend; retry`);
    return done(after);
  };
}

/** The volume's size after the expand; the node always has its part to do. */
export interface ExpandResult {
  capacityBytes: bigint;
  nodeExpansionRequired: boolean;
}

function done(vol: Volume): ExpandResult {
  return { capacityBytes: gibToBytes(vol.size), nodeExpansionRequired: true };
}

/** Waits until Cinder leaves `extending`; the volume then has its final size (or failed). */
async function settle(d: HandlerDeps, vol: Volume, target: number, ctx: RpcContext): Promise<Volume> {
  const until = (v: Volume) => (v.status.startsWith('error') ? 'failed' : v.status === 'extending' ? 'pending' : 'done');
  const r = await waitWithin(d.waiters.volumes, vol, until, ctx, d.now);
  switch (r.outcome) {
    case 'done':
      return r.object;
    case 'failed':
      throw internal(`Cinder failed to extend volume ${vol.id} to ${target} GiB (status ${r.object.status}); an administrator must reset its state`);
    case 'gone':
      throw notFound(`volume ${vol.id} was deleted while being expanded`);
    case 'timeout':
      throw aborted(`volume ${vol.id} is still being extended to ${target} GiB; retry`);
  }
}
