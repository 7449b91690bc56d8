import { join } from 'node:path';
import { getSnapshot, getVolume, listableSnapshots } from './access.js';
import { actionDispatcher, type ActionHandler } from './actions.js';
import type { CinderContext, Env } from './env.js';
import { badRequest, forbiddenPolicy, notFound } from './errors.js';
import { copySparse, removeFile } from './files.js';
import { emptyHtml, json, jsonBody, type ApiRequest, type ApiResponse } from './http.js';
import { newUuid } from './ids.js';
import { listItems } from './listing.js';
import { atLeast } from './microversion.js';
import { reserve } from './quotas.js';
import type { SnapshotRecord } from './state.js';
import {
  fieldError,
  isObject,
  metadataField,
  optionalString,
  pyRepr,
  requireKeys,
  requireTopLevel,
  strictBoolField,
  uuidField,
} from './validate.js';
import { snapshotView } from './views.js';

/**
 * Snapshots: create (async to available; data copied for the local backend), show, list, update,
 * delete, admin actions. `force` rules: below 3.66 an in-use volume needs force=true; from 3.66
 * in-use is fine, force=true is ignored and force=false is rejected.
 */

export const SNAPSHOT_IN_USE_FLAG_MSG =
  "Since microversion 3.66 the 'force' flag is invalid for this request. For backward compatability, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.";

function listSnapshots(detail: boolean) {
  return (req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse => {
    const r = listItems(req, ctx, listableSnapshots(req, ctx, env), {
      allowedFilters: ['name', 'status', 'volume_id', 'metadata', 'availability_zone'],
      adminColumns: ['id', 'display_name', 'project_id', 'user_id'],
      field: (s, key) => {
        switch (key) {
          case 'name':
          case 'display_name':
            return s.name;
          case 'status':
            return s.status;
          case 'volume_id':
            return s.volumeId;
          case 'metadata':
            return s.metadata;
          case 'availability_zone':
            return env.store.volumes.get(s.volumeId)?.availabilityZone ?? null;
          case 'created_at':
            return s.createdAt;
          case 'updated_at':
            return s.updatedAt;
          case 'size':
            return s.size;
          case 'id':
            return s.id;
          case 'project_id':
            return s.projectId;
          case 'user_id':
            return s.userId;
          default:
            return undefined;
        }
      },
      find: (id) => {
        const s = env.store.snapshots.get(id);
        return s && (ctx.isAdmin || s.projectId === ctx.projectId) ? s : undefined;
      },
      markerNotFound: (id) => notFound(`Snapshot ${id} could not be found.`),
      collection: detail ? 'snapshots/detail' : 'snapshots',
      linksKey: 'snapshots_links',
    });
    const body: Record<string, unknown> = { snapshots: r.items.map((s) => snapshotView(s, ctx, detail)) };
    if (r.links) body.snapshots_links = r.links;
    if (r.count !== undefined) body.count = r.count;
    return json(200, body);
  };
}

export const listSnapshotsSummary = listSnapshots(false);
export const listSnapshotsDetail = listSnapshots(true);

export function showSnapshot(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  return json(200, { snapshot: snapshotView(getSnapshot(env, ctx, req.params.id ?? ''), ctx, true) });
}

export function createSnapshot(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const body = requireTopLevel(jsonBody(req), 'snapshot');
  const volumeId = uuidField('volume_id', body.volume_id, false);
  const name = optionalString('name', body.name ?? body.display_name);
  const description = optionalString('description', body.description ?? body.display_description);
  const force = strictBoolField('force', body.force);
  const metadata = metadataField('metadata', body.metadata) ?? {};
  requireKeys('snapshot', body, ['volume_id']);

  const v = getVolume(env, ctx, volumeId ?? '');
  const inUseOk = atLeast(ctx.version, '3.66');
  if (inUseOk && force === false) throw badRequest(SNAPSHOT_IN_USE_FLAG_MSG);
  const allowed = force === true || inUseOk ? ['available', 'in-use'] : ['available'];
  if (!allowed.includes(v.status)) {
    throw badRequest(
      `Invalid volume: Volume ${v.id} status must be ${allowed.join(' or ')}, but current status is: ${v.status}.`,
    );
  }
  const typeName = env.store.types.get(v.typeId)?.name ?? '';
  reserve(env, ctx.projectId, {
    snapshots: 1,
    gigabytes: v.size,
    [`snapshots_${typeName}`]: 1,
    [`gigabytes_${typeName}`]: v.size,
  });
  const id = newUuid();
  const s: SnapshotRecord = {
    id,
    projectId: ctx.projectId,
    userId: ctx.userId,
    volumeId: v.id,
    name: name ?? null,
    description: description ?? null,
    size: v.size,
    status: 'creating',
    metadata,
    createdAt: Date.now(),
    updatedAt: null,
    seq: env.store.nextSeq(),
    filePath: v.filePath ? join(env.stateDir, `snapshot-${id}`) : null,
    generation: 0,
  };
  env.store.snapshots.set(id, s);
  env.lifecycle.created('snapshot', s);
  const fail = env.faults.takeErrorOnCreate('snapshots');
  if (fail) env.stats.fault('errorOnCreate');
  const sourcePath = v.filePath;
  env.lifecycle.later('snapshot', s, async () => {
    if (fail) {
      env.lifecycle.setStatus('snapshot', s, 'error');
      return;
    }
    try {
      if (s.filePath && sourcePath) await copySparse(sourcePath, s.filePath, s.size);
      if (env.store.snapshots.get(s.id) === s) env.lifecycle.setStatus('snapshot', s, 'available');
    } catch (err) {
      console.error(`cinder emulator: creating snapshot ${s.id} failed: ${(err as Error).message}`);
      if (env.store.snapshots.get(s.id) === s) env.lifecycle.setStatus('snapshot', s, 'error');
    }
  });
  return json(202, { snapshot: snapshotView(s, ctx, false) });
}

export function updateSnapshot(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const s = getSnapshot(env, ctx, req.params.id ?? '');
  const body = requireTopLevel(jsonBody(req), 'snapshot');
  const name = optionalString('name', body.name ?? body.display_name);
  const description = optionalString('description', body.description ?? body.display_description);
  if (name !== undefined) s.name = name;
  if (description !== undefined) s.description = description;
  s.updatedAt = Date.now();
  return json(200, { snapshot: snapshotView(s, ctx, false) });
}

function beginSnapshotDelete(env: Env, s: SnapshotRecord): void {
  env.lifecycle.setStatus('snapshot', s, 'deleting');
  env.lifecycle.later('snapshot', s, async () => {
    if (s.filePath) await removeFile(s.filePath).catch(() => undefined);
    env.lifecycle.gone('snapshot', s);
    env.store.snapshots.delete(s.id);
  });
}

export function deleteSnapshot(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const s = getSnapshot(env, ctx, req.params.id ?? '');
  if ((s.status !== 'available' && s.status !== 'error') || s.groupSnapshotId) {
    throw badRequest('Invalid snapshot: Snapshot status must be available or error and must not be part of a group.');
  }
  beginSnapshotDelete(env, s);
  return emptyHtml(202);
}

const SNAPSHOT_STATUSES = ['available', 'creating', 'deleting', 'error', 'error_deleting', 'backing-up', 'restoring'];

const resetStatus: ActionHandler = (req, ctx, env, arg) => {
  if (!ctx.isAdmin) throw forbiddenPolicy('volume_extension:snapshot_admin_actions:reset_status');
  const s = getSnapshot(env, ctx, req.params.id ?? '');
  if (!isObject(arg)) throw fieldError('os-reset_status', arg, `${pyRepr(arg)} is not of type 'object'`);
  const status = optionalString('status', arg.status);
  if (!status) throw fieldError('os-reset_status', arg, "'status' is a required property");
  if (!SNAPSHOT_STATUSES.includes(status)) {
    throw fieldError('status', status, `${pyRepr(status)} is not one of ${pyRepr(SNAPSHOT_STATUSES)}`);
  }
  env.lifecycle.setStatus('snapshot', s, status);
  return emptyHtml(202);
};

const forceDelete: ActionHandler = (req, ctx, env) => {
  if (!ctx.isAdmin) throw forbiddenPolicy('volume_extension:snapshot_admin_actions:force_delete');
  beginSnapshotDelete(env, getSnapshot(env, ctx, req.params.id ?? ''));
  return emptyHtml(202);
};

export const snapshotAction = actionDispatcher({ 'os-reset_status': resetStatus, 'os-force_delete': forceDelete });
