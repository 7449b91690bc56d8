import { specIsTrue } from './volume-types.js';
import { cinderTime } from './clock.js';
import type { CinderContext, Env } from './env.js';
import type { ApiRequest } from './http.js';
import { atLeast } from './microversion.js';
import type { AttachmentRecord, SnapshotRecord, VolumeRecord } from './state.js';

/**
 * Cinder's view builders: records → the JSON the real API returns, with the fields that depend on
 * the microversion (group_id 3.13, provider_id 3.21, shared_targets/service_uuid 3.48, …) and on
 * being an admin (host attributes, attachment host_name).
 */

export const ts = (ms: number | null): string | null => (ms === null ? null : cinderTime(ms));

/** self and bookmark links, built from the address the client used (as Cinder does). */
export function links(req: ApiRequest, ctx: CinderContext, collection: string, id: string): Array<{ rel: string; href: string }> {
  return [
    { rel: 'self', href: `${req.origin}/v3/${ctx.projectId}/${collection}/${id}` },
    { rel: 'bookmark', href: `${req.origin}/${ctx.projectId}/${collection}/${id}` },
  ];
}

export function volumeSummary(v: VolumeRecord, req: ApiRequest, ctx: CinderContext): Record<string, unknown> {
  return { id: v.id, name: v.name, links: links(req, ctx, 'volumes', v.id) };
}

function volumeAttachments(v: VolumeRecord, ctx: CinderContext, env: Env): Record<string, unknown>[] {
  return env.store
    .attachmentsOf(v.id)
    .filter((a) => a.status === 'attached')
    .map((a) => ({
      id: v.id,
      attachment_id: a.id,
      volume_id: v.id,
      server_id: a.instanceUuid,
      // Cinder hides the host from non-admins (views/volumes.py _get_attachments).
      host_name: ctx.isAdmin ? a.attachedHost : null,
      device: a.mountpoint,
      attached_at: ts(a.attachedAt),
    }));
}

/**
 * The detailed view. `extended` adds what Cinder's admin extensions add to show/detail (not to the
 * create answer): os-vol-host-attr:host, os-vol-tenant-attr:tenant_id, migration attributes.
 */
export function volumeDetail(
  v: VolumeRecord,
  req: ApiRequest,
  ctx: CinderContext,
  env: Env,
  extended: boolean,
): Record<string, unknown> {
  const type = env.store.types.get(v.typeId);
  const out: Record<string, unknown> = {
    id: v.id,
    status: v.status,
    size: v.size,
    availability_zone: v.availabilityZone,
    created_at: ts(v.createdAt),
    updated_at: ts(v.updatedAt),
    name: v.name,
    description: v.description,
    volume_type: type?.name ?? v.typeId,
    snapshot_id: v.snapshotId,
    source_volid: v.sourceVolid,
    metadata: { ...v.metadata },
    links: links(req, ctx, 'volumes', v.id),
    user_id: v.userId,
    bootable: String(v.bootable),
    // A type with an encryption spec (in Cinder: openstack volume type create --encryption-…);
    // the emulator marks such types with the extra spec emulator:encrypted.
    encrypted: specIsTrue(type?.extraSpecs['emulator:encrypted']),
    replication_status: null,
    consistencygroup_id: null,
    multiattach: v.multiattach,
    attachments: volumeAttachments(v, ctx, env),
  };
  if (ctx.isAdmin) out.migration_status = null;
  const mv = ctx.version;
  if (atLeast(mv, '3.13')) out.group_id = v.groupId ?? null;
  if (ctx.isAdmin && atLeast(mv, '3.21')) out.provider_id = null;
  if (atLeast(mv, '3.48')) {
    out.shared_targets = false;
    out.service_uuid = v.host === null ? null : serviceUuid(v.host);
  }
  if (ctx.isAdmin && atLeast(mv, '3.61')) out.cluster_name = null;
  if (atLeast(mv, '3.63')) out.volume_type_id = v.typeId;
  if (atLeast(mv, '3.65')) out.consumes_quota = true;
  if (extended && ctx.isAdmin) {
    out['os-vol-host-attr:host'] = v.host;
    out['os-vol-mig-status-attr:migstat'] = null;
    out['os-vol-mig-status-attr:name_id'] = null;
    out['os-vol-tenant-attr:tenant_id'] = v.projectId;
  }
  return out;
}

function serviceUuid(host: string): string {
  // A fixed uuid per backend host, like the cinder-volume service's uuid.
  const hex = Buffer.from(host).toString('hex').padEnd(32, '0').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function snapshotView(s: SnapshotRecord, ctx: CinderContext, extended: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: s.id,
    created_at: ts(s.createdAt),
    updated_at: ts(s.updatedAt),
    name: s.name,
    description: s.description,
    volume_id: s.volumeId,
    status: s.status,
    size: s.size,
    metadata: { ...s.metadata },
  };
  const mv = ctx.version;
  if (atLeast(mv, '3.14')) out.group_snapshot_id = s.groupSnapshotId ?? null;
  if (atLeast(mv, '3.41')) out.user_id = s.userId;
  if (atLeast(mv, '3.65')) out.consumes_quota = true;
  if (extended) {
    out['os-extended-snapshot-attributes:progress'] = s.status === 'available' ? '100%' : '0%';
    out['os-extended-snapshot-attributes:project_id'] = s.projectId;
  }
  return out;
}

export function attachmentSummary(a: AttachmentRecord): Record<string, unknown> {
  return { id: a.id, status: a.status, instance: a.instanceUuid, volume_id: a.volumeId };
}

/** Unset times are empty strings here (views/attachments.py _normalize), not null. */
export function attachmentDetail(a: AttachmentRecord): Record<string, unknown> {
  return {
    ...attachmentSummary(a),
    attached_at: a.attachedAt === null ? '' : cinderTime(a.attachedAt),
    detached_at: '',
    attach_mode: a.attachMode,
    connection_info: a.connectionInfo ?? {},
  };
}
