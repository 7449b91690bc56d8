import { join } from 'node:path';
import type { CinderContext, Env } from './env.js';
import { badRequest, forbiddenPolicy, notFound } from './errors.js';
import { copySparse, removeFile } from './files.js';
import { emptyHtml, json, jsonBody, type ApiRequest, type ApiResponse } from './http.js';
import { isUuidLike, newUuid } from './ids.js';
import { reserve } from './quotas.js';
import type { GroupRecord, GroupSnapshotRecord, GroupTypeRecord, SnapshotRecord, Store, VolumeRecord } from './state.js';
import { fieldError, isObject, optionalString, requireKeys, requireTopLevel } from './validate.js';
import { ts } from './views.js';

/**
 * Generic volume groups (3.13), group snapshots (3.14) and group types (3.11), as Zed's
 * group/api.py checks them (observed on the real Cinder: docs/design/volume-group-snapshots.md):
 * - group types: listed by anyone, created by admins only; the emulator starts with a public
 *   `csi-group` type.
 * - a group takes the volume types it is created with; volumes join (`add_volumes`) when
 *   available or in-use, of one of those types, in no other group, on the group's backend; the
 *   group is `updating` meanwhile. A volume in a group cannot be deleted.
 * - a group snapshot snapshots every member (one ordinary snapshot each, named after it, with
 *   `group_snapshot_id`); such a snapshot is deleted only with its group snapshot; a group with a
 *   group snapshot cannot be deleted, nor one with volumes unless `delete-volumes`.
 */

export const SEED_GROUP_TYPE = 'csi-group';

export function installGroupTypes(store: Store): void {
  const id = newUuid();
  store.groupTypes.set(id, { id, name: SEED_GROUP_TYPE, isPublic: true, groupSpecs: {} });
}

function groupTypeView(t: GroupTypeRecord, ctx: CinderContext): Record<string, unknown> {
  return { id: t.id, name: t.name, description: null, is_public: t.isPublic, ...(ctx.isAdmin ? { group_specs: { ...t.groupSpecs } } : {}) };
}

export function listGroupTypes(_req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  return json(200, { group_types: [...env.store.groupTypes.values()].filter((t) => t.isPublic || ctx.isAdmin).map((t) => groupTypeView(t, ctx)) });
}

export function createGroupType(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  if (!ctx.isAdmin) throw forbiddenPolicy('group:group_types:create');
  const body = requireTopLevel(jsonBody(req), 'group_type');
  const name = optionalString('name', body.name);
  if (!name) throw fieldError('group_type', body, "'name' is a required property");
  const id = newUuid();
  const t: GroupTypeRecord = { id, name, isPublic: body.is_public !== false, groupSpecs: isObject(body.group_specs) ? Object.fromEntries(Object.entries(body.group_specs).map(([k, v]) => [k, String(v)])) : {} };
  env.store.groupTypes.set(id, t);
  return json(200, { group_type: groupTypeView(t, ctx) });
}

function groupTypeOf(env: Env, ctx: CinderContext, ref: string): GroupTypeRecord {
  const t = isUuidLike(ref) ? env.store.groupTypes.get(ref) : [...env.store.groupTypes.values()].find((x) => x.name === ref);
  if (!t || (!t.isPublic && !ctx.isAdmin)) throw notFound(isUuidLike(ref) ? `Group type ${ref} could not be found.` : `Group type with name ${ref} could not be found.`);
  return t;
}

function canSee(ctx: CinderContext, projectId: string): boolean {
  return ctx.isAdmin || ctx.projectId === projectId;
}

function getGroup(env: Env, ctx: CinderContext, id: string): GroupRecord {
  const g = env.store.groups.get(id);
  if (!g || !canSee(ctx, g.projectId)) throw notFound(`Group ${id} could not be found.`);
  return g;
}

function getGroupSnapshot(env: Env, ctx: CinderContext, id: string): GroupSnapshotRecord {
  const g = env.store.groupSnapshots.get(id);
  if (!g || !canSee(ctx, g.projectId)) throw notFound(`GroupSnapshot ${id} could not be found.`);
  return g;
}

const membersOf = (env: Env, g: GroupRecord): VolumeRecord[] => [...env.store.volumes.values()].filter((v) => v.groupId === g.id);
const snapshotsOf = (env: Env, gs: GroupSnapshotRecord): SnapshotRecord[] => [...env.store.snapshots.values()].filter((s) => s.groupSnapshotId === gs.id);

function groupView(env: Env, g: GroupRecord, listVolumes: boolean): Record<string, unknown> {
  return {
    id: g.id,
    status: g.status,
    availability_zone: g.availabilityZone,
    created_at: ts(g.createdAt),
    name: g.name,
    description: g.description,
    group_type: g.groupTypeId,
    volume_types: [...g.volumeTypeIds],
    group_snapshot_id: null,
    source_group_id: null,
    ...(listVolumes ? { volumes: membersOf(env, g).map((v) => v.id) } : {}),
  };
}

function groupSnapshotView(gs: GroupSnapshotRecord, env: Env): Record<string, unknown> {
  return {
    id: gs.id,
    group_id: gs.groupId,
    group_type_id: env.store.groups.get(gs.groupId)?.groupTypeId ?? null,
    status: gs.status,
    created_at: ts(gs.createdAt),
    name: gs.name,
    description: gs.description,
  };
}

export function createGroup(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const body = requireTopLevel(jsonBody(req), 'group');
  requireKeys('group', body, ['group_type', 'volume_types']);
  const type = groupTypeOf(env, ctx, String(body.group_type));
  if (!Array.isArray(body.volume_types) || body.volume_types.length === 0) throw fieldError('volume_types', body.volume_types, 'volume_types must be a non-empty list');
  const volumeTypeIds = body.volume_types.map((ref) => {
    const r = String(ref);
    const t = isUuidLike(r) ? env.store.types.get(r) : [...env.store.types.values()].find((x) => x.name === r);
    if (!t) throw notFound(isUuidLike(r) ? `Volume type ${r} could not be found.` : `Volume type with name ${r} could not be found.`);
    return t.id;
  });
  reserve(env, ctx.projectId, { groups: 1 });
  const id = newUuid();
  const g: GroupRecord = {
    id,
    projectId: ctx.projectId,
    name: optionalString('name', body.name) ?? null,
    description: optionalString('description', body.description) ?? null,
    status: 'creating',
    groupTypeId: type.id,
    volumeTypeIds,
    availabilityZone: optionalString('availability_zone', body.availability_zone) ?? env.zones[0] ?? 'nova',
    createdAt: Date.now(),
    updatedAt: null,
    seq: env.store.nextSeq(),
    generation: 0,
  };
  env.store.groups.set(id, g);
  env.lifecycle.created('group', g);
  env.lifecycle.later('group', g, async () => {
    if (env.store.groups.get(id) === g) env.lifecycle.setStatus('group', g, 'available');
  });
  return json(202, { group: { id, name: g.name } });
}

export function showGroup(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const g = getGroup(env, ctx, req.params.id ?? '');
  return json(200, { group: groupView(env, g, req.query.get('list_volume') === 'true') });
}

export function listGroups(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const all = [...env.store.groups.values()].filter((g) => g.projectId === ctx.projectId).sort((a, b) => b.seq - a.seq);
  return json(200, { groups: all.map((g) => groupView(env, g, req.query.get('list_volume') === 'true')) });
}

export function updateGroup(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const g = getGroup(env, ctx, req.params.id ?? '');
  const body = requireTopLevel(jsonBody(req), 'group');
  const ids = (v: unknown): string[] => (typeof v === 'string' && v !== '' ? v.split(',').map((x) => x.trim()).filter(Boolean) : []);
  const add = ids(body.add_volumes);
  const remove = ids(body.remove_volumes);
  const name = optionalString('name', body.name);
  const description = optionalString('description', body.description);
  if (g.status !== 'available') throw badRequest('Invalid Group: Group status must be available.');
  const both = add.filter((id) => remove.includes(id));
  if (both.length > 0) throw badRequest(`Invalid volume: UUIDs ${JSON.stringify(both).replace(/"/g, "'")} are in both add and remove volume list.`);
  const adding = add.map((id) => {
    const v = env.store.volumes.get(id);
    const why = (reason: string) => badRequest(`Invalid volume: Cannot add volume ${id} to group ${g.id} because ${reason}.`);
    if (!v || !canSee(ctx, v.projectId)) throw why('volume cannot be found');
    if (v.groupId === g.id) return undefined;
    if (v.groupId) throw why(`it is already in group ${v.groupId}`);
    if (!g.volumeTypeIds.includes(v.typeId)) throw why(`volume type ${v.typeId} is not supported by the group`);
    if (v.status !== 'available' && v.status !== 'in-use') throw why(`volume is in an invalid state: ${v.status}. Valid states are: ('available', 'in-use')`);
    const host = membersOf(env, g)[0]?.host;
    if (host && v.host !== host) throw badRequest('Invalid volume: Volume is not local to this node.');
    return v;
  });
  const removing = remove.map((id) => {
    const v = env.store.volumes.get(id);
    if (!v || v.groupId !== g.id) throw badRequest(`Invalid volume: Cannot remove volume ${id} from group ${g.id} because it is not in the group.`);
    return v;
  });
  const toAdd = adding.filter((v): v is VolumeRecord => v !== undefined);
  if (toAdd.length === 0 && removing.length === 0 && name === undefined && description === undefined) {
    throw badRequest(`Invalid Group: Cannot update group ${g.id} because no valid name, description, add_volumes, or remove_volumes were provided.`);
  }
  if (name !== undefined) g.name = name;
  if (description !== undefined) g.description = description;
  if (toAdd.length === 0 && removing.length === 0) return emptyHtml(202);
  env.lifecycle.setStatus('group', g, 'updating');
  env.lifecycle.later('group', g, async () => {
    for (const v of toAdd) v.groupId = g.id;
    for (const v of removing) v.groupId = null;
    if (env.store.groups.get(g.id) === g) env.lifecycle.setStatus('group', g, 'available');
  });
  return emptyHtml(202);
}

export function groupAction(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const g = getGroup(env, ctx, req.params.id ?? '');
  const body = jsonBody(req);
  if (!isObject(body) || !('delete' in body)) throw badRequest('There is no such action');
  const arg = isObject(body.delete) ? body.delete : {};
  const withVolumes = arg['delete-volumes'] === true || arg['delete-volumes'] === 'true';
  if ([...env.store.groupSnapshots.values()].some((gs) => gs.groupId === g.id)) throw badRequest('Invalid Group: Group has existing snapshots.');
  const members = membersOf(env, g);
  if (members.length > 0 && !withVolumes) throw badRequest(`Invalid Group: Group ${g.id} still contains volumes. The delete-volumes flag is required to delete it.`);
  if (members.length > 0) throw badRequest('The emulator does not delete member volumes with their group (delete-volumes).');
  env.lifecycle.setStatus('group', g, 'deleting');
  env.lifecycle.later('group', g, async () => {
    env.lifecycle.gone('group', g);
    env.store.groups.delete(g.id);
  });
  return emptyHtml(202);
}

export function createGroupSnapshot(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const body = requireTopLevel(jsonBody(req), 'group_snapshot');
  requireKeys('group_snapshot', body, ['group_id']);
  const g = getGroup(env, ctx, String(body.group_id));
  const members = membersOf(env, g);
  if (members.length === 0 || g.status !== 'available') {
    throw badRequest("Invalid Group: Source group cannot be empty or in 'creating' or 'updating' state. No group snapshot will be created.");
  }
  for (const v of members) if (v.status.startsWith('error')) throw badRequest('Invalid volume: The snapshot cannot be created when the volume is in error status.');
  reserve(env, ctx.projectId, { snapshots: members.length, gigabytes: members.reduce((n, v) => n + v.size, 0) });
  const id = newUuid();
  const name = optionalString('name', body.name) ?? null;
  const description = optionalString('description', body.description) ?? null;
  const gs: GroupSnapshotRecord = { id, projectId: ctx.projectId, groupId: g.id, name, description, status: 'creating', createdAt: Date.now(), updatedAt: null, seq: env.store.nextSeq(), generation: 0 };
  env.store.groupSnapshots.set(id, gs);
  env.lifecycle.created('group_snapshot', gs);
  const snaps = members.map((v) => {
    const sid = newUuid();
    const s: SnapshotRecord = {
      id: sid,
      projectId: ctx.projectId,
      userId: ctx.userId,
      volumeId: v.id,
      name,
      description,
      size: v.size,
      status: 'creating',
      metadata: {},
      createdAt: Date.now(),
      updatedAt: null,
      seq: env.store.nextSeq(),
      filePath: v.filePath ? join(env.stateDir, `snapshot-${sid}`) : null,
      generation: 0,
      groupSnapshotId: id,
    };
    env.store.snapshots.set(sid, s);
    env.lifecycle.created('snapshot', s);
    return { s, from: v.filePath };
  });
  env.lifecycle.later('group_snapshot', gs, async () => {
    let ok = true;
    for (const { s, from } of snaps) {
      try {
        if (s.filePath && from) await copySparse(from, s.filePath, s.size);
        if (env.store.snapshots.get(s.id) === s) env.lifecycle.setStatus('snapshot', s, 'available');
      } catch (err) {
        console.error(`cinder emulator: group snapshot ${id} member ${s.id} failed: ${(err as Error).message}`);
        ok = false;
        if (env.store.snapshots.get(s.id) === s) env.lifecycle.setStatus('snapshot', s, 'error');
      }
    }
    if (env.store.groupSnapshots.get(id) === gs) env.lifecycle.setStatus('group_snapshot', gs, ok ? 'available' : 'error');
  });
  return json(202, { group_snapshot: { id, name, group_type_id: g.groupTypeId } });
}

export function showGroupSnapshot(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  return json(200, { group_snapshot: groupSnapshotView(getGroupSnapshot(env, ctx, req.params.id ?? ''), env) });
}

export function listGroupSnapshots(_req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const all = [...env.store.groupSnapshots.values()].filter((g) => g.projectId === ctx.projectId).sort((a, b) => b.seq - a.seq);
  return json(200, { group_snapshots: all.map((gs) => groupSnapshotView(gs, env)) });
}

export function deleteGroupSnapshot(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const gs = getGroupSnapshot(env, ctx, req.params.id ?? '');
  if (gs.status !== 'available' && gs.status !== 'error') {
    throw badRequest('Invalid GroupSnapshot: GroupSnapshot status must be available or error, and no Group can be currently using it as source for its creation.');
  }
  const snaps = snapshotsOf(env, gs);
  env.lifecycle.setStatus('group_snapshot', gs, 'deleting');
  for (const s of snaps) env.lifecycle.setStatus('snapshot', s, 'deleting');
  env.lifecycle.later('group_snapshot', gs, async () => {
    for (const s of snaps) {
      if (s.filePath) await removeFile(s.filePath).catch(() => undefined);
      env.lifecycle.gone('snapshot', s);
      env.store.snapshots.delete(s.id);
    }
    env.lifecycle.gone('group_snapshot', gs);
    env.store.groupSnapshots.delete(gs.id);
  });
  return emptyHtml(202);
}
