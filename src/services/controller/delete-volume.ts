import { isBadRequest, isNotFound } from '../../cinder/errors.js';
import type { Volume } from '../../cinder/types.js';
import type { RpcContext } from '../../util/context.js';
import { aborted, failedPrecondition, internal } from '../../util/errors.js';
import { holders, INCOMPLETE_STATUSES, readNodeRecords } from './attachments.js';
import type { HandlerDeps } from './deps.js';
import { findVolume } from './lookup.js';
import { isUuid } from './tokens.js';
import { waitWithin } from './wait.js';

/**
 * DeleteVolume. Idempotent: a volume that is gone — or an id that cannot name one — is success.
 *
 * Decision: the call waits (within its deadline) until Cinder has really removed the volume,
 * rather than returning once Cinder accepted the delete. A delete can still fail in Cinder
 * (`error_deleting`); answering OK first would make the CO forget a volume that still exists
 * and costs money. So: gone → OK; `error_deleting` → INTERNAL naming it; still `deleting` at
 * the deadline → ABORTED, and the retry waits again.
 *
 * Request economy: DELETE first, and read the volume only when Cinder refuses (attached,
 * snapshots, mid-operation, already deleting) to say why or to clear the way — on the normal
 * path a delete costs the DELETE and the waiter's read that finds it gone. The volumes whose
 * DELETE this controller saw accepted are remembered until seen gone, so a retry after ABORTED
 * waits instead of deleting twice (after a restart, the retry's DELETE is refused as `deleting`
 * and it waits all the same).
 */
export function deleteVolumeHandler(d: HandlerDeps) {
  const deleting = new Set<string>();
  return async (id: string, ctx: RpcContext): Promise<void> => {
    if (!isUuid(id)) return;
    if (!deleting.has(id)) {
      if ((await deleteOrPrepare(d, id, ctx)) === 'gone') return;
      deleting.add(id);
    }
    const r = await waitWithin(d.waiters.volumes, beingDeleted(id), (v) => (v.status === 'deleting' ? 'pending' : 'done'), ctx, d.now);
    if (r.outcome !== 'timeout') deleting.delete(id);
    if (r.outcome === 'gone') return;
    if (r.outcome === 'failed') {
      throw internal(`Cinder failed to delete volume ${id} (status ${r.object.status}); an administrator must reset its state`);
    }
    if (r.outcome === 'timeout') throw aborted(`volume ${id} is still being deleted by Cinder; retry`);
    throw aborted(`Cinder stopped deleting volume ${id} (it is ${r.object.status} again); retry`);
  };
}

/** What the waiter needs to follow a delete: the id, and that Cinder is deleting it. */
function beingDeleted(id: string): Volume {
  return { id, status: 'deleting', size: 0, metadata: {}, attachments: [], multiattach: false };
}

const TRANSIENT: ReadonlySet<string> = new Set(['creating', 'downloading', 'extending']);

/** Sends the DELETE; when Cinder refuses it, finds out why and either clears the way and deletes, or explains. */
async function deleteOrPrepare(d: HandlerDeps, id: string, ctx: RpcContext): Promise<'gone' | 'deleting'> {
  const first = await sendDelete(d, id, ctx);
  if (first !== 'refused') return first === 'gone' ? 'gone' : 'deleting';
  let vol = await findVolume(d.cinder, id, ctx);
  if (!vol) return 'gone';
  if (vol.status === 'deleting') return 'deleting';
  if (vol.attachments.length > 0) {
    const hosts = holders(vol.attachments, readNodeRecords(vol.metadata)).join(', ');
    throw failedPrecondition(`volume ${id} is still attached to ${hosts}; it must be unpublished before it is deleted`);
  }
  if (vol.status === 'reserved' || vol.status === 'attaching') {
    // No completed attachment, yet Cinder holds one: leftovers of a publish that crashed. The
    // CO deletes a volume only once every VolumeAttachment is gone, so nothing uses them.
    vol = await dropLeftoverAttachments(d, vol, ctx);
    if (!vol) return 'gone';
  } else if (TRANSIENT.has(vol.status)) {
    // Cinder refuses to delete a volume mid-operation; let it finish within our deadline.
    const r = await waitWithin(d.waiters.volumes, vol, (v) => (TRANSIENT.has(v.status) ? 'pending' : 'done'), ctx, d.now);
    if (r.outcome === 'gone') return 'gone';
    if (r.outcome === 'timeout') throw aborted(`volume ${id} is still ${r.last?.status ?? vol.status}; it is deleted once that finishes — retry`);
  }
  // Snapshots, or a state Cinder still refuses: its 400 becomes FAILED_PRECONDITION at the edge.
  const second = await sendDelete(d, id, ctx, true);
  return second === 'gone' ? 'gone' : 'deleting';
}

async function sendDelete(d: HandlerDeps, id: string, ctx: RpcContext, last = false): Promise<'gone' | 'accepted' | 'refused'> {
  try {
    await d.cinder.deleteVolume(id, ctx);
    return 'accepted';
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    if (isBadRequest(err) && !last) return 'refused';
    throw err;
  }
}

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
