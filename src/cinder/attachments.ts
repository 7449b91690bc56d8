import { failedPrecondition } from '../util/errors.js';
import { encodeId, type CinderApi } from './api.js';
import type { CallOptions } from './request.js';
import { asArray, asObject, parseAttachment, type Attachment, type HostConnector } from './types.js';

/**
 * Attachments (the 3.27+ API; we require 3.44 for os-complete).
 *
 * - Never sends `instance_uuid`: on bare metal there is no Nova, and Cinder consults Nova before
 *   deleting an attachment that has one (then fails with 500).
 * - `mode`: sent only from 3.54 (below, Cinder rejects the unknown property). Below 3.54 a `rw`
 *   request is served by simply omitting it (rw is the default), and `ro` fails with
 *   FAILED_PRECONDITION — we will not hand out a writable attachment for a read-only request.
 * - POST /attachments is not idempotent: a lost reply surfaces as outcomeUnknown; the caller lists
 *   the volume's attachments to find it.
 */

export interface CreateAttachmentRequest {
  volumeId: string;
  connector: HostConnector | Record<string, unknown>;
  mode?: 'rw' | 'ro';
}

export async function createAttachment(api: CinderApi, r: CreateAttachmentRequest, opts?: CallOptions): Promise<Attachment> {
  const features = await api.features(opts);
  const attachment: Record<string, unknown> = { volume_uuid: r.volumeId, connector: r.connector };
  if (r.mode !== undefined) {
    if (features.attachMode) attachment.mode = r.mode;
    else if (r.mode === 'ro') {
      throw failedPrecondition(`read-only attachments need Cinder API microversion 3.54; this Cinder offers ${features.serverMaxVersion}`);
    }
  }
  const req = { method: 'POST' as const, route: '/attachments', path: '/attachments', body: { attachment } };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => parseAttachment(asObject(b, 'body').attachment));
}

export async function getAttachment(api: CinderApi, id: string, opts?: CallOptions): Promise<Attachment> {
  const req = { method: 'GET' as const, route: '/attachments/{id}', path: `/attachments/${encodeId(id)}` };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => parseAttachment(asObject(b, 'body').attachment));
}

/** All attachments of one volume (any status), across pages. */
export async function listAttachments(api: CinderApi, r: { volumeId: string }, opts?: CallOptions): Promise<Attachment[]> {
  const out: Attachment[] = [];
  let marker: string | undefined;
  for (;;) {
    const req = {
      method: 'GET' as const,
      route: '/attachments/detail',
      path: '/attachments/detail',
      query: { volume_id: r.volumeId, marker },
    };
    const res = await api.send(req, opts);
    const page = api.parse(req, res, (b) => {
      const o = asObject(b, 'body');
      return asArray(o.attachments, 'body.attachments').map((a, i) => parseAttachment(a, `attachments[${i}]`));
    });
    out.push(...page);
    const links = (res.body as { attachments_links?: unknown }).attachments_links;
    const hasNext = Array.isArray(links) && links.some((l) => !!l && typeof l === 'object' && (l as { rel?: unknown }).rel === 'next');
    const last = page[page.length - 1];
    if (!hasNext || !last || last.id === marker) return out;
    marker = last.id;
  }
}

/** `os-complete`: the volume becomes in-use. Idempotent (a second call also answers 204). */
export async function completeAttachment(api: CinderApi, id: string, opts?: CallOptions): Promise<void> {
  await api.send(
    {
      method: 'POST',
      route: '/attachments/{id}/action#os-complete',
      path: `/attachments/${encodeId(id)}/action`,
      body: { 'os-complete': null },
      idempotent: true,
    },
    opts,
  );
}

/** Deletes (detaches) one attachment; a 404 (already gone) is a typed not-found the caller may ignore. */
export async function deleteAttachment(api: CinderApi, id: string, opts?: CallOptions): Promise<void> {
  await api.send({ method: 'DELETE', route: '/attachments/{id}', path: `/attachments/${encodeId(id)}` }, opts);
}
