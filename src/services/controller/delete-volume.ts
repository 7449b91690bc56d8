import { isNotFound } from '../../cinder/errors.js';
import type { Volume } from '../../cinder/types.js';
import type { DeleteVolumeRequest__Output } from '../../generated/csi/v1/DeleteVolumeRequest.js';
import type { DeleteVolumeResponse } from '../../generated/csi/v1/DeleteVolumeResponse.js';
import type { RpcContext } from '../../util/context.js';
import { aborted, failedPrecondition, internal, invalidArgument } from '../../util/errors.js';
import { holders, INCOMPLETE_STATUSES, readNodeRecords } from './attachments.js';
import type { HandlerDeps } from './deps.js';
import { findVolume } from './lookup.js';
import { waitWithin } from './wait.js';

/**
 * DeleteVolume. Idempotent: a volume that is gone — or an id that cannot name one — is success.
 *
 * Decision: the call waits (within its deadline) until Cinder has really removed the volume,
 * rather than returning once Cinder accepted the delete. A delete can still fail in Cinder
 * (`error_deleting`); answering OK first would make the CO forget a volume that still exists
 * and costs money. So: gone → OK; `error_deleting` → INTERNAL naming it; still `deleting` at
 * the deadline → ABORTED, and the retry (which sees `deleting` and does not delete twice)
 * waits again.
 */
export function deleteVolumeHandler(d: HandlerDeps) {
  return async (req: DeleteVolumeRequest__Output, ctx: RpcContext): Promise<DeleteVolumeResponse> => {
    const id = req.volume_id ?? '';
    if (id === '') throw invalidArgument('volume_id is required');
    let vol = await findVolume(d.cinder, id, ctx);
    if (!vol) return {};
    if (vol.attachments.length > 0) {
      const hosts = holders(vol.attachments, readNodeRecords(vol.metadata)).join(', ');
      throw failedPrecondition(`volume ${id} is still attached to ${hosts}; it must be unpublished before it is deleted`);
    }
    if (vol.status === 'reserved' || vol.status === 'attaching') {
      // No completed attachment, yet Cinder holds one: leftovers of a publish that crashed. The
      // CO deletes a volume only once every VolumeAttachment is gone, so nothing uses them.
      vol = await dropLeftoverAttachments(d, vol, ctx);
      if (!vol) return {};
    }
    if (vol.status === 'creating' || vol.status === 'downloading' || vol.status === 'extending') {
      // Cinder refuses to delete a volume mid-operation; let it finish within our deadline.
      const r = await waitWithin(d.waiters.volumes, vol, (v) => (TRANSIENT.has(v.status) ? 'pending' : 'done'), ctx, d.now);
      if (r.outcome === 'gone') return {};
      if (r.outcome === 'timeout') throw aborted(`volume ${id} is still ${r.last?.status ?? vol.status}; it is deleted once that finishes — retry`);
      vol = r.object;
    }
    if (vol.status !== 'deleting') {
      try {
        await d.cinder.deleteVolume(id, ctx);
      } catch (err) {
        if (isNotFound(err)) return {};
        // 400 (snapshots exist, a state Cinder refuses) → FAILED_PRECONDITION at the edge.
        throw err;
      }
    }
    const r = await waitWithin(d.waiters.volumes, { ...vol, status: 'deleting' }, () => 'pending', ctx, d.now);
    if (r.outcome === 'gone') return {};
    if (r.outcome === 'failed') {
      throw internal(`Cinder failed to delete volume ${id} (status ${r.object.status}); an administrator must reset its state`);
    }
    if (r.outcome === 'timeout') throw aborted(`volume ${id} is still being deleted by Cinder; retry`);
    return {};
  };
}

const TRANSIENT: ReadonlySet<string> = new Set(['creating', 'downloading', 'extending']);

async function dropLeftoverAttachments(d: HandlerDeps, vol: Volume, ctx: RpcContext): Promise<Volume | undefined> {
  const all = await d.cinder.listAttachments({ volumeId: vol.id }, ctx);
  for (const a of all) {
    if (!INCOMPLETE_STATUSES.has(a.status)) continue;
    ctx.log.info({ volumeId: vol.id, attachmentId: a.id, status: a.status }, 'DeleteVolume: removing a leftover attachment');
    try {
      await d.cinder.deleteAttachment(a.id, ctx);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return findVolume(d.cinder, vol.id, ctx);
}
