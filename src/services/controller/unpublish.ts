import type { RpcContext } from '../../util/context.js';
import { aborted, DriverError } from '../../util/errors.js';
import { parseNodeId } from '../node-id.js';
import { attachmentsToRemove, readNodeRecords } from './attachments.js';
import type { HandlerDeps } from './deps.js';
import type { UnpublishInput } from './requests.js';
import { findVolume } from './lookup.js';
import { removeAll, summary } from './attachment-calls.js';

/**
 * ControllerUnpublishVolume: deletes this node's attachments of the volume, whatever their
 * status, and only this node's (plus unowned crash leftovers, see attachments.ts); without a
 * node id, every attachment (the spec's "from all nodes"). A volume that is gone, or an id that
 * cannot name one, is success.
 *
 * A node id that does not parse is success too: ControllerPublish parses the id before it
 * attaches anything, so no attachment can exist for a node id we cannot read — the volume "can
 * be safely regarded as ControllerUnpublished from the node" (spec).
 */
export function unpublishHandler(d: HandlerDeps) {
  return async (req: UnpublishInput, ctx: RpcContext): Promise<void> => {
    const { volumeId } = req;
    let nodeName: string | undefined;
    if (req.nodeId) {
      try {
        nodeName = parseNodeId(req.nodeId).nodeName;
      } catch (err) {
        if (err instanceof DriverError) return;
        throw err;
      }
    }
    const vol = await findVolume(d.cinder, volumeId, ctx);
    if (!vol) return;
    // Listing is needed only where leftovers can hide: a non-multiattach volume that is
    // available or in-use has no attachments besides the completed ones Cinder shows on it.
    const simple = !vol.multiattach && (vol.status === 'available' || vol.status === 'in-use');
    const all = simple ? undefined : await d.cinder.listAttachments({ volumeId }, ctx);
    const summaries = all?.map(summary);
    const doomed = attachmentsToRemove(nodeName, vol.attachments, summaries, readNodeRecords(vol.metadata));
    // Cinder (Zed, db volume_detached) sets a volume detached during a backup to `available`,
    // and the backup's end then puts back `in-use` with no attachment: a volume no one can
    // delete. The detach waits for the backup instead.
    if (vol.status === 'backing-up' && doomed.length > 0) throw aborted(`volume ${volumeId} is being backed up by Cinder; it is detached once the backup is done — retry`);
    await removeAll(d, doomed, ctx);
    // The node's ownership record stays: it names an attachment id, and an id that no longer
    // exists owns nothing (attachments.ts matches records to live attachments only). The next
    // publish to that node overwrites it. Blanking it here would cost a third request per call.
    return;
  };
}
