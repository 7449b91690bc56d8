import { getAttachment, getVolume, listableAttachments } from './access.js';
import { actionDispatcher, type ActionHandler } from './actions.js';
import { connectionInfo } from './backends.js';
import type { CinderContext, Env } from './env.js';
import { badRequest, notFound, RESOURCE_NOT_FOUND, serverError } from './errors.js';
import { json, jsonBody, noContent, type ApiRequest, type ApiResponse } from './http.js';
import { newUuid } from './ids.js';
import { listItems } from './listing.js';
import { atLeast } from './microversion.js';
import type { AttachmentRecord, VolumeRecord } from './state.js';
import {
  fieldError,
  isObject,
  pyRepr,
  rejectUnknownKeys,
  requireKeys,
  requireTopLevel,
  uuidField,
  type Json,
} from './validate.js';
import { attachmentDetail, attachmentSummary } from './views.js';

/**
 * The attachments API (3.27+; os-complete 3.44+): reserve a volume for a host, hand out
 * connection_info for its connector, complete, delete. Reproduces the real server's quirks: POST is
 * 200 and its answer still says "reserved"; `mode` only from 3.54; deleting an attachment that has
 * an instance_uuid and connection_info asks Nova, which bare metal lacks → 500.
 */

function setVolumeStatus(env: Env, v: VolumeRecord, status: string): void {
  if (v.status !== status) env.lifecycle.setStatus('volume', v, status);
}

function setAttachmentStatus(env: Env, a: AttachmentRecord, status: string): void {
  if (a.status === status) return;
  env.stats.transition('attachment', a.id, a.status, status);
  a.status = status;
}

function checkConnector(v: Json | undefined, allowNull: boolean): Record<string, unknown> | null | undefined {
  if (v === undefined) return undefined;
  if (v === null && allowNull) return null;
  if (!isObject(v)) throw fieldError('connector', v, `${pyRepr(v)} is not of type 'object'${allowNull ? ", 'null'" : ''}`);
  return v;
}

/** What the volume manager's attachment_update does: export the volume to the connector. */
function applyConnector(env: Env, ctx: CinderContext, v: VolumeRecord, a: AttachmentRecord, connector: Record<string, unknown>): void {
  const type = env.store.types.get(v.typeId);
  if (!type) throw serverError(500);
  a.connector = connector;
  // Seen on the real Cinder: the volume manager reads the read-only flag from the volume's admin
  // metadata, which it loads only for an admin context, so connection_info says "ro" to an admin
  // and "rw" to a member; attach_mode (set by the API with an elevated context) says "ro" to both.
  a.connectionInfo = connectionInfo(v, type, a.id, connector, env.backends, ctx.isAdmin);
  if (v.readonly) a.attachMode = 'ro';
  a.attachedHost = typeof connector.host === 'string' ? connector.host : null;
  a.mountpoint = typeof connector.mountpoint === 'string' ? connector.mountpoint : 'na';
  a.attachedAt = Date.now();
  if (a.status !== 'attached') {
    setAttachmentStatus(env, a, 'attaching');
    if (v.status === 'reserved') setVolumeStatus(env, v, 'attaching');
  }
}

export function createAttachment(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const body = requireTopLevel(jsonBody(req), 'attachment');
  const modeAllowed = atLeast(ctx.version, '3.54');
  // jsonschema order: properties, then required, then additionalProperties.
  const instanceUuid = uuidField('instance_uuid', body.instance_uuid, true) ?? null;
  const connector = checkConnector(body.connector, true) ?? null;
  const volumeUuid = uuidField('volume_uuid', body.volume_uuid, false);
  let mode = 'null';
  if (modeAllowed && body.mode !== undefined) {
    if (body.mode !== 'rw' && body.mode !== 'ro') throw fieldError('mode', body.mode, `${pyRepr(body.mode)} is not one of ['rw', 'ro']`);
    mode = body.mode;
  }
  requireKeys('attachment', body, ['volume_uuid']);
  rejectUnknownKeys('attachment', body, ['instance_uuid', 'connector', 'volume_uuid', ...(modeAllowed ? ['mode'] : [])]);

  const v = getVolume(env, ctx, volumeUuid ?? '');
  const statuses = v.multiattach ? ['available', 'in-use', 'downloading'] : ['available', 'downloading'];
  if (!statuses.includes(v.status)) {
    // Re-reserving for the same instance is allowed (instance migration, LP #1694530).
    const sameInstance =
      instanceUuid !== null &&
      (v.status === 'in-use' || v.status === 'reserved') &&
      env.store.attachmentsOf(v.id).some((x) => x.instanceUuid === instanceUuid);
    if (!sameInstance) {
      throw badRequest(
        `Invalid volume: Volume ${v.id} status must be ${statuses.join(' or ')} to reserve, but the current status is ${v.status}.`,
      );
    }
  }
  const a: AttachmentRecord = {
    id: newUuid(),
    projectId: v.projectId,
    volumeId: v.id,
    instanceUuid,
    status: 'reserved',
    connector: null,
    connectionInfo: null,
    attachMode: mode,
    attachedHost: null,
    mountpoint: null,
    attachedAt: null,
    createdAt: Date.now(),
    seq: env.store.nextSeq(),
  };
  env.store.addAttachment(a);
  env.stats.transition('attachment', a.id, null, 'reserved');
  setVolumeStatus(env, v, 'reserved');
  // The answer is built from the record as reserved; only connection_info is filled in afterwards.
  const answer = attachmentDetail(a);
  if (connector) {
    applyConnector(env, ctx, v, a, connector);
    answer.connection_info = a.connectionInfo;
    if (modeAllowed) answer.attach_mode = a.attachMode;
  }
  return json(200, { attachment: answer });
}

export function showAttachment(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  return json(200, { attachment: attachmentDetail(getAttachment(env, ctx, req.params.id ?? '')) });
}

export function updateAttachment(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const a = getAttachment(env, ctx, req.params.id ?? '');
  const body = requireTopLevel(jsonBody(req), 'attachment');
  const connector = checkConnector(body.connector, false);
  requireKeys('attachment', body, ['connector']);
  rejectUnknownKeys('attachment', body, ['connector']);
  const v = getVolume(env, ctx, a.volumeId);
  const answer = attachmentDetail(a);
  if (connector) applyConnector(env, ctx, v, a, connector);
  answer.connection_info = a.connectionInfo ?? {};
  return json(200, { attachment: answer });
}

/** Removes an attachment and settles the volume (cinder.db volume_detached). */
export function detach(env: Env, a: AttachmentRecord): AttachmentRecord[] {
  env.store.removeAttachment(a);
  env.stats.transition('attachment', a.id, a.status, 'deleted');
  const v = env.store.volumes.get(a.volumeId);
  const remaining = env.store.attachmentsOf(a.volumeId);
  if (v) {
    if (remaining.length > 0) {
      v.attachStatus = 'attached';
      setVolumeStatus(env, v, 'in-use');
    } else {
      v.attachStatus = 'detached';
      setVolumeStatus(env, v, 'available');
    }
  }
  return remaining;
}

export function deleteAttachment(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const a = getAttachment(env, ctx, req.params.id ?? '');
  // OSSA-2023-003: Cinder asks Nova whether the instance still uses the volume; no Nova → 500.
  if (a.instanceUuid !== null && a.connectionInfo !== null) throw serverError(500);
  const remaining = detach(env, a);
  return json(200, { attachments: remaining.map(attachmentSummary) });
}

function listAttachments(detail: boolean) {
  return (req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse => {
    const r = listItems(req, ctx, listableAttachments(req, ctx, env), {
      allowedFilters: ['volume_id', 'status', 'instance_id', 'attach_status'],
      adminColumns: ['id', 'attached_host', 'project_id'],
      field: (a, key) => {
        switch (key) {
          case 'volume_id':
            return a.volumeId;
          case 'status':
          case 'attach_status':
            return a.status;
          case 'instance_id':
            return a.instanceUuid;
          case 'created_at':
            return a.createdAt;
          case 'id':
            return a.id;
          case 'attached_host':
            return a.attachedHost;
          case 'project_id':
            return a.projectId;
          default:
            return undefined;
        }
      },
      find: (id) => env.store.attachments.get(id),
      markerNotFound: (id) => notFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`),
      collection: detail ? 'attachments/detail' : 'attachments',
    });
    return json(200, { attachments: r.items.map((a) => (detail ? attachmentDetail(a) : attachmentSummary(a))) });
  };
}

export const listAttachmentsSummary = listAttachments(false);
export const listAttachmentsDetail = listAttachments(true);

const complete: ActionHandler = (req, ctx, env) => {
  if (!atLeast(ctx.version, '3.44')) throw notFound(RESOURCE_NOT_FOUND);
  const a = getAttachment(env, ctx, req.params.id ?? '');
  const v = getVolume(env, ctx, a.volumeId);
  setAttachmentStatus(env, a, 'attached');
  v.attachStatus = 'attached';
  setVolumeStatus(env, v, 'in-use');
  return noContent();
};

export const attachmentAction = actionDispatcher({ 'os-complete': complete });
