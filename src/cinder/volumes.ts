import { encodeId, type CinderApi } from './api.js';
import type { CallOptions } from './request.js';
import { limitToAsk, pageOf, walkPages } from './list-pages.js';
import { asArray, asObject, parseVolume, stringMapOf, type Page, type Volume } from './types.js';

/**
 * Volumes. `getVolume` throws a typed not-found (`isNotFound(err)`) rather than returning
 * undefined: callers must say what a missing volume means for them (success for deletes,
 * NOT_FOUND for publish), and a forgotten check then fails loudly instead of passing `undefined`.
 */

export interface CreateVolumeRequest {
  name: string;
  /** GiB. */
  size: number;
  volumeType?: string;
  availabilityZone?: string;
  snapshotId?: string;
  sourceVolId?: string;
  /** Restore a backup into the new volume (3.47, features().volumeFromBackup). */
  backupId?: string;
  metadata?: Record<string, string>;
  description?: string;
}

export interface VolumeFilter {
  name?: string;
  status?: string;
  /** Every pair must match. */
  metadata?: Record<string, string>;
  /**
   * Only volumes whose `updated_at` is at or after this instant (epoch ms): the 3.60 filter
   * `updated_at=gte:<time>` (features().updatedAtFilters). Below 3.60 Cinder drops the filter
   * silently and answers as if it was not given, so callers check the feature first.
   */
  updatedSince?: number;
}

export interface ListVolumesRequest extends VolumeFilter {
  limit?: number;
  marker?: string;
}

export async function createVolume(api: CinderApi, r: CreateVolumeRequest, opts?: CallOptions): Promise<Volume> {
  const volume: Record<string, unknown> = { name: r.name, size: r.size };
  if (r.description !== undefined) volume.description = r.description;
  if (r.volumeType !== undefined) volume.volume_type = r.volumeType;
  if (r.availabilityZone !== undefined) volume.availability_zone = r.availabilityZone;
  if (r.snapshotId !== undefined) volume.snapshot_id = r.snapshotId;
  if (r.sourceVolId !== undefined) volume.source_volid = r.sourceVolId;
  if (r.backupId !== undefined) volume.backup_id = r.backupId;
  if (r.metadata !== undefined) volume.metadata = r.metadata;
  const req = { method: 'POST' as const, route: '/volumes', path: '/volumes', body: { volume } };
  // Not idempotent: a lost reply surfaces as outcomeUnknown, the caller re-finds by name.
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => parseVolume(asObject(b, 'body').volume));
}

export async function getVolume(api: CinderApi, id: string, opts?: CallOptions): Promise<Volume> {
  const req = { method: 'GET' as const, route: '/volumes/{id}', path: `/volumes/${encodeId(id)}` };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => parseVolume(asObject(b, 'body').volume));
}

function filterQuery(f: VolumeFilter): Record<string, string | undefined> {
  return {
    name: f.name,
    status: f.status,
    // Cinder reads the metadata filter as a dict literal; JSON of string pairs is one.
    metadata: f.metadata && Object.keys(f.metadata).length > 0 ? JSON.stringify(f.metadata) : undefined,
    updated_at: f.updatedSince !== undefined ? `gte:${new Date(f.updatedSince).toISOString()}` : undefined,
  };
}

/** One page of `/volumes/detail` (marker rules: list-pages.ts). */
export async function listVolumes(api: CinderApi, r: ListVolumesRequest = {}, opts?: CallOptions): Promise<Page<Volume>> {
  const ask = limitToAsk(r.limit);
  const req = {
    method: 'GET' as const,
    route: '/volumes/detail',
    path: '/volumes/detail',
    query: { ...filterQuery(r), limit: ask, marker: r.marker },
  };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => {
    const o = asObject(b, 'body');
    return pageOf(asArray(o.volumes, 'body.volumes').map((v, i) => parseVolume(v, `volumes[${i}]`)), o.volumes_links, ask);
  });
}

/** Every volume matching the filter, page after page. */
export function listAllVolumes(api: CinderApi, f: VolumeFilter = {}, opts?: CallOptions): Promise<Volume[]> {
  return walkPages((marker) => listVolumes(api, { ...f, marker }, opts));
}

export async function deleteVolume(api: CinderApi, id: string, opts?: CallOptions): Promise<void> {
  await api.send({ method: 'DELETE', route: '/volumes/{id}', path: `/volumes/${encodeId(id)}` }, opts);
}

/**
 * `os-extend`. Retried by the client on a lost reply (extending to the same size twice is the
 * same request); if the first attempt had worked, the retry answers 400 "must be greater than
 * current size" and the error carries outcomeUnknown, so the caller re-reads the size.
 * An in-use volume needs microversion 3.42 (features().inUseExtend).
 */
export async function extendVolume(api: CinderApi, id: string, newSizeGiB: number, opts?: CallOptions): Promise<void> {
  await api.send(
    {
      method: 'POST',
      route: '/volumes/{id}/action#os-extend',
      path: `/volumes/${encodeId(id)}/action`,
      body: { 'os-extend': { new_size: newSizeGiB } },
      idempotent: true,
    },
    opts,
  );
}

/**
 * Cinder's migration policy of a retype: `never` changes the type only where the volume is;
 * `on-demand` lets Cinder move the volume to another backend when the new type needs one.
 */
export type MigrationPolicy = 'never' | 'on-demand';

/**
 * `os-retype` (202; the volume turns `retyping` and back). Not retried on a lost reply: a second
 * request is refused while the first runs, and the caller reads the volume to see what happened.
 */
export async function retypeVolume(api: CinderApi, id: string, newType: string, policy: MigrationPolicy, opts?: CallOptions): Promise<void> {
  await api.send(
    {
      method: 'POST',
      route: '/volumes/{id}/action#os-retype',
      path: `/volumes/${encodeId(id)}/action`,
      body: { 'os-retype': { new_type: newType, migration_policy: policy } },
    },
    opts,
  );
}

/** Merges `metadata` into the volume's (POST semantics); returns the full resulting metadata. */
export function setVolumeMetadata(api: CinderApi, id: string, metadata: Record<string, string>, opts?: CallOptions): Promise<Record<string, string>> {
  return sendVolumeMetadata(api, 'POST', id, metadata, opts);
}

/** Replaces all of the volume's metadata (PUT): keys not given are removed. */
export function replaceVolumeMetadata(api: CinderApi, id: string, metadata: Record<string, string>, opts?: CallOptions): Promise<Record<string, string>> {
  return sendVolumeMetadata(api, 'PUT', id, metadata, opts);
}

async function sendVolumeMetadata(api: CinderApi, method: 'POST' | 'PUT', id: string, metadata: Record<string, string>, opts?: CallOptions): Promise<Record<string, string>> {
  const req = {
    method,
    route: '/volumes/{id}/metadata',
    path: `/volumes/${encodeId(id)}/metadata`,
    body: { metadata },
    idempotent: true,
  };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => stringMapOf(asObject(b, 'body').metadata, 'body.metadata'));
}
