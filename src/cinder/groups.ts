import { encodeId, type CinderApi } from './api.js';
import { walkPages, pageOf } from './list-pages.js';
import type { CallOptions } from './request.js';
import { asArray, asObject, parseGroup, parseGroupSnapshot, ShapeError, type Group, type GroupSnapshot } from './types.js';

/**
 * Generic volume groups (3.13) and group snapshots (3.14), as the group snapshots of
 * services/controller/group-snapshots.ts use them. Cinder's default resource filters allow no
 * `name` filter on either list: callers match names themselves.
 */

export interface CreateGroupRequest {
  name: string;
  description?: string;
  /** Group type name or id (an admin creates group types). */
  groupType: string;
  /** Volume type names or ids: every member's type must be one of them. */
  volumeTypes: string[];
  availabilityZone?: string;
}

export interface UpdateGroupRequest {
  name?: string;
  addVolumes?: string[];
  removeVolumes?: string[];
}

/** 202 with only `{id, name}`: the caller reads the group for the rest. */
export async function createGroup(api: CinderApi, r: CreateGroupRequest, opts?: CallOptions): Promise<{ id: string }> {
  const group: Record<string, unknown> = { name: r.name, group_type: r.groupType, volume_types: r.volumeTypes };
  if (r.description !== undefined) group.description = r.description;
  if (r.availabilityZone !== undefined) group.availability_zone = r.availabilityZone;
  const req = { method: 'POST' as const, route: '/groups', path: '/groups', body: { group } };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => idOf(asObject(b, 'body').group, 'group'));
}

/** The group with its member volume ids (`list_volume=true`, 3.25). */
export async function getGroup(api: CinderApi, id: string, opts?: CallOptions): Promise<Group> {
  const req = { method: 'GET' as const, route: '/groups/{id}', path: `/groups/${encodeId(id)}`, query: { list_volume: 'true' } };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => parseGroup(asObject(b, 'body').group));
}

export function listAllGroups(api: CinderApi, opts?: CallOptions): Promise<Group[]> {
  return walkPages(async (marker) => {
    const req = { method: 'GET' as const, route: '/groups/detail', path: '/groups/detail', query: { marker } };
    const res = await api.send(req, opts);
    return api.parse(req, res, (b) => {
      const o = asObject(b, 'body');
      return pageOf(asArray(o.groups, 'body.groups').map((v, i) => parseGroup(v, `groups[${i}]`)), o.group_links, undefined);
    });
  });
}

/** PUT /groups/{id}: 202; the group is `updating` until the volumes are added or removed. */
export async function updateGroup(api: CinderApi, id: string, r: UpdateGroupRequest, opts?: CallOptions): Promise<void> {
  const group: Record<string, unknown> = {};
  if (r.name !== undefined) group.name = r.name;
  if (r.addVolumes && r.addVolumes.length > 0) group.add_volumes = r.addVolumes.join(',');
  if (r.removeVolumes && r.removeVolumes.length > 0) group.remove_volumes = r.removeVolumes.join(',');
  await api.send({ method: 'PUT', route: '/groups/{id}', path: `/groups/${encodeId(id)}`, body: { group }, idempotent: true }, opts);
}

/** Deletes an empty group (`delete-volumes` false: member volumes are never deleted with it). */
export async function deleteGroup(api: CinderApi, id: string, opts?: CallOptions): Promise<void> {
  await api.send(
    { method: 'POST', route: '/groups/{id}/action', path: `/groups/${encodeId(id)}/action`, body: { delete: { 'delete-volumes': false } }, idempotent: true },
    opts,
  );
}

/** 202 with only `{id, name, group_type_id}`: the caller reads the group snapshot for the rest. */
export async function createGroupSnapshot(api: CinderApi, r: { groupId: string; name: string; description?: string }, opts?: CallOptions): Promise<{ id: string }> {
  const group_snapshot: Record<string, unknown> = { group_id: r.groupId, name: r.name };
  if (r.description !== undefined) group_snapshot.description = r.description;
  const req = { method: 'POST' as const, route: '/group_snapshots', path: '/group_snapshots', body: { group_snapshot } };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => idOf(asObject(b, 'body').group_snapshot, 'group_snapshot'));
}

export async function getGroupSnapshot(api: CinderApi, id: string, opts?: CallOptions): Promise<GroupSnapshot> {
  const req = { method: 'GET' as const, route: '/group_snapshots/{id}', path: `/group_snapshots/${encodeId(id)}` };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => parseGroupSnapshot(asObject(b, 'body').group_snapshot));
}

export function listAllGroupSnapshots(api: CinderApi, opts?: CallOptions): Promise<GroupSnapshot[]> {
  return walkPages(async (marker) => {
    const req = { method: 'GET' as const, route: '/group_snapshots/detail', path: '/group_snapshots/detail', query: { marker } };
    const res = await api.send(req, opts);
    return api.parse(req, res, (b) => {
      const o = asObject(b, 'body');
      return pageOf(asArray(o.group_snapshots, 'body.group_snapshots').map((v, i) => parseGroupSnapshot(v, `group_snapshots[${i}]`)), o.group_snapshot_links, undefined);
    });
  });
}

/** Deletes the group snapshot and every snapshot cut in it. */
export async function deleteGroupSnapshot(api: CinderApi, id: string, opts?: CallOptions): Promise<void> {
  await api.send({ method: 'DELETE', route: '/group_snapshots/{id}', path: `/group_snapshots/${encodeId(id)}` }, opts);
}

function idOf(v: unknown, path: string): { id: string } {
  const o = asObject(v, path);
  if (typeof o.id !== 'string' || o.id === '') throw new ShapeError(`${path}.id is missing or not a string`);
  return { id: o.id };
}
