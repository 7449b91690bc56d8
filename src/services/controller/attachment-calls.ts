import { isNotFound } from '../../cinder/errors.js';
import type { Attachment } from '../../cinder/types.js';
import type { RpcContext } from '../../util/context.js';
import type { AttachmentSummary } from './attachments.js';
import type { HandlerDeps } from './deps.js';

/** Attachment calls shared by publish and unpublish. */

/** What attachment matching needs of a Cinder attachment (the connector host, when shown). */
export function summary(a: Attachment): AttachmentSummary {
  const host = a.connector?.host;
  return { id: a.id, status: a.status, ...(typeof host === 'string' && host !== '' ? { hostName: host } : {}) };
}

/** Deletes attachments one by one; one already gone is fine. */
export async function removeAll(d: HandlerDeps, ids: readonly string[], ctx: RpcContext): Promise<void> {
  for (const id of ids) {
    try {
      await d.cinder.deleteAttachment(id, ctx);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
