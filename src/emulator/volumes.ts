import { join } from 'node:path';
import { getSnapshot, getVolume, listableVolumes } from './access.js';
import { backendOf, hostOf } from './backends.js';
import { backupToRestore, restoreInto } from './backups.js';
import type { CinderContext, Env } from './env.js';
import { badRequest, notFound } from './errors.js';
import { copySparse, createSparse, removeFile } from './files.js';
import { emptyHtml, json, jsonBody, type ApiRequest, type ApiResponse } from './http.js';
import { isUuidLike, newUuid } from './ids.js';
import { listItems, type ListSpec } from './listing.js';
import { reserve } from './quotas.js';
import type { BackupRecord, SnapshotRecord, VolumeRecord, VolumeTypeRecord } from './state.js';
import {
  boolFromString,
  metadataField,
  optionalString,
  requireTopLevel,
  sizeField,
  uuidField,
} from './validate.js';
import { volumeDetail, volumeSummary } from './views.js';
import { defaultType, specIsTrue } from './volume-types.js';

/** Volumes: create (async to available), show, list (summary and detail), update, delete. */

/** Statuses a volume may be deleted from (cinder.volume.api.API.delete). */
const DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];
export const DELETE_REFUSED =
  'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.';

export function volumeListSpec(req: ApiRequest, ctx: CinderContext, env: Env, collection: string): ListSpec<VolumeRecord> {
  return {
    allowedFilters: ['name', 'status', 'metadata', 'bootable', 'migration_status', 'availability_zone', 'group_id', 'size', 'created_at', 'updated_at'],
    adminColumns: ['id', 'display_name', 'project_id', 'user_id', 'host', 'volume_type_id', 'snapshot_id', 'source_volid', 'multiattach'],
    field: (v, key) => {
      switch (key) {
        case 'name':
        case 'display_name':
          return v.name;
        case 'status':
          return v.status;
        case 'metadata':
          return v.metadata;
        case 'bootable':
          return v.bootable;
        case 'migration_status':
          return null;
        case 'group_id':
          return v.groupId ?? null;
        case 'availability_zone':
          return v.availabilityZone;
        case 'size':
          return v.size;
        case 'created_at':
          return v.createdAt;
        case 'updated_at':
          return v.updatedAt;
        case 'id':
          return v.id;
        case 'project_id':
          return v.projectId;
        case 'user_id':
          return v.userId;
        case 'host':
          return v.host;
        case 'volume_type_id':
          return v.typeId;
        case 'snapshot_id':
          return v.snapshotId;
        case 'source_volid':
          return v.sourceVolid;
        case 'multiattach':
          return v.multiattach;
        default:
          return undefined;
      }
    },
    find: (id) => {
      const v = env.store.volumes.get(id);
      return v && (ctx.isAdmin || v.projectId === ctx.projectId) ? v : undefined;
    },
    markerNotFound: (id) => notFound(`Volume ${id} could not be found.`),
    collection,
    linksKey: 'volumes_links',
  };
}

function listVolumes(detail: boolean) {
  return (req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse => {
    const spec = volumeListSpec(req, ctx, env, detail ? 'volumes/detail' : 'volumes');
    const r = listItems(req, ctx, listableVolumes(req, ctx, env), spec);
    const body: Record<string, unknown> = {
      volumes: r.items.map((v) => (detail ? volumeDetail(v, req, ctx, env, true) : volumeSummary(v, req, ctx))),
    };
    if (r.links) body.volumes_links = r.links;
    if (r.count !== undefined) body.count = r.count;
    return json(200, body);
  };
}

export const listVolumesSummary = listVolumes(false);
export const listVolumesDetail = listVolumes(true);

export function showVolume(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const v = getVolume(env, ctx, req.params.id ?? '');
  return json(200, { volume: volumeDetail(v, req, ctx, env, true) });
}

function resolveType(env: Env, ref: string): VolumeTypeRecord {
  if (isUuidLike(ref)) {
    const t = env.store.types.get(ref);
    if (!t) throw notFound(`Volume type ${ref} could not be found.`);
    return t;
  }
  const t = [...env.store.types.values()].find((x) => x.name === ref);
  if (!t) throw notFound(`Volume type with name ${ref} could not be found.`);
  return t;
}

function invalidInput(reason: string): never {
  throw badRequest(`Invalid input received: ${reason}`);
}

export async function createVolume(req: ApiRequest, ctx: CinderContext, env: Env): Promise<ApiResponse> {
  const body = requireTopLevel(jsonBody(req), 'volume');
  const size = sizeField('size', body.size);
  const name = optionalString('name', body.name ?? body.display_name);
  const description = optionalString('description', body.description ?? body.display_description);
  const metadata = metadataField('metadata', body.metadata) ?? {};
  const snapshotId = uuidField('snapshot_id', body.snapshot_id, true);
  const sourceVolid = uuidField('source_volid', body.source_volid, true);
  const requestedAz = optionalString('availability_zone', body.availability_zone);
  const typeRef = optionalString('volume_type', body.volume_type);
  // Documented from 3.47; the real Cinder (Zed) takes it at 3.46 as well.
  const backupId = uuidField('backup_id', body.backup_id, true);

  const snapshot = snapshotId ? getSnapshot(env, ctx, snapshotId) : undefined;
  const source = sourceVolid ? getVolume(env, ctx, sourceVolid) : undefined;
  const parent = snapshot ? env.store.volumes.get(snapshot.volumeId) : source;
  const type = typeRef
    ? resolveType(env, typeRef)
    : parent
      ? (env.store.types.get(parent.typeId) ?? defaultType(env.store))
      : defaultType(env.store);

  const backup = backupId ? backupToRestore(env, ctx, backupId, size) : undefined;
  const finalSize = size ?? snapshot?.size ?? source?.size ?? backup?.size;
  if (finalSize === undefined || finalSize < 1) {
    invalidInput(`Volume size '${finalSize === undefined ? 'None' : finalSize}' must be an integer and greater than 0`);
  }
  if (snapshot) {
    if (snapshot.status !== 'available') {
      throw badRequest('Invalid snapshot: Originating snapshot status must be one of available values');
    }
    if (finalSize < snapshot.size) {
      invalidInput(
        `Volume size '${finalSize}'GB cannot be smaller than the snapshot size ${snapshot.size}GB. They must be >= original snapshot size.`,
      );
    }
  }
  if (source) {
    if (source.status !== 'available' && source.status !== 'in-use') {
      throw badRequest(
        'Invalid volume: Unable to create a volume from an originating source volume when its status is not one of available, in-use values',
      );
    }
    if (finalSize < source.size) {
      invalidInput(
        `Volume size '${finalSize}'GB cannot be smaller than original volume size  ${source.size}GB. They must be >= original volume size.`,
      );
    }
  }
  if (requestedAz !== undefined && requestedAz !== null && !env.zones.includes(requestedAz)) {
    throw badRequest(`Availability zone '${requestedAz}' is invalid.`);
  }
  // Like Cinder (cloned_volume_same_az), a restore or clone stays in its parent's zone.
  const az = requestedAz ?? parent?.availabilityZone ?? env.zones[0] ?? 'nova';
  if (parent && az !== parent.availabilityZone) {
    invalidInput(`Volume must be in the same availability zone as the ${snapshot ? 'snapshot' : 'source volume'}`);
  }

  reserve(env, ctx.projectId, {
    volumes: 1,
    gigabytes: finalSize,
    [`volumes_${type.name}`]: 1,
    [`gigabytes_${type.name}`]: finalSize,
  });

  const backend = backendOf(type);
  const id = newUuid();
  const v: VolumeRecord = {
    id,
    projectId: ctx.projectId,
    userId: ctx.userId,
    name: name ?? null,
    description: description ?? null,
    size: finalSize,
    status: 'creating',
    attachStatus: 'detached',
    availabilityZone: az,
    typeId: type.id,
    snapshotId: snapshot?.id ?? null,
    sourceVolid: source?.id ?? null,
    metadata,
    multiattach: specIsTrue(type.extraSpecs.multiattach) || boolFromString(body.multiattach ?? false),
    bootable: false,
    host: hostOf(backend),
    createdAt: Date.now(),
    updatedAt: null,
    seq: env.store.nextSeq(),
    filePath: backend === 'local' ? join(env.stateDir, `volume-${id}`) : null,
    generation: 0,
  };
  env.store.volumes.set(id, v);
  env.lifecycle.created('volume', v);
  const failCreate = env.faults.takeErrorOnCreate('volumes');
  if (failCreate) env.stats.fault('errorOnCreate');
  env.lifecycle.later('volume', v, () => finishCreate(env, v, snapshot, source, failCreate, backup));
  return json(202, { volume: volumeDetail(v, req, ctx, env, false) });
}

async function finishCreate(
  env: Env,
  v: VolumeRecord,
  snapshot: SnapshotRecord | undefined,
  source: VolumeRecord | undefined,
  fail: boolean,
  backup?: BackupRecord,
): Promise<void> {
  if (fail) {
    env.lifecycle.setStatus('volume', v, 'error');
    return;
  }
  try {
    if (v.filePath) {
      const from = snapshot?.filePath ?? source?.filePath ?? null;
      if (from) await copySparse(from, v.filePath, v.size);
      else await createSparse(v.filePath, v.size);
    }
    if (env.store.volumes.get(v.id) !== v || v.status !== 'creating') return;
    if (backup && env.store.backups.get(backup.id) === backup) restoreInto(env, v, backup);
    else env.lifecycle.setStatus('volume', v, 'available');
  } catch (err) {
    console.error(`cinder emulator: creating volume ${v.id} failed: ${(err as Error).message}`);
    if (env.store.volumes.get(v.id) === v) env.lifecycle.setStatus('volume', v, 'error');
  }
}

export function updateVolume(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const v = getVolume(env, ctx, req.params.id ?? '');
  const body = requireTopLevel(jsonBody(req), 'volume');
  const name = optionalString('name', body.name ?? body.display_name);
  const description = optionalString('description', body.description ?? body.display_description);
  const metadata = metadataField('metadata', body.metadata);
  if (name !== undefined) v.name = name;
  if (description !== undefined) v.description = description;
  if (metadata !== undefined) v.metadata = metadata;
  v.updatedAt = Date.now();
  return json(200, { volume: volumeDetail(v, req, ctx, env, false) });
}

/** Starts the deletion of a volume (and, with cascade, of its snapshots) — checks done by the caller. */
export function beginDelete(env: Env, v: VolumeRecord, snapshots: SnapshotRecord[]): void {
  for (const s of snapshots) env.lifecycle.setStatus('snapshot', s, 'deleting');
  env.lifecycle.setStatus('volume', v, 'deleting');
  env.lifecycle.later('volume', v, async () => {
    for (const s of snapshots) {
      if (s.filePath) await removeFile(s.filePath).catch(() => undefined);
      env.lifecycle.gone('snapshot', s);
      env.store.snapshots.delete(s.id);
    }
    if (v.filePath) await removeFile(v.filePath).catch(() => undefined);
    for (const a of env.store.attachmentsOf(v.id)) env.store.removeAttachment(a);
    env.lifecycle.gone('volume', v);
    env.store.volumes.delete(v.id);
  });
}

export function deleteVolume(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const v = getVolume(env, ctx, req.params.id ?? '');
  const cascade = boolFromString(req.query.get('cascade') ?? 'false');
  const snapshots = env.store.snapshotsOf(v.id);
  if (!DELETABLE.includes(v.status) || env.store.attachmentsOf(v.id).length > 0 || v.groupId) throw badRequest(DELETE_REFUSED);
  if (snapshots.length > 0) {
    if (!cascade) throw badRequest(DELETE_REFUSED);
    const busy = snapshots.find((s) => s.status !== 'available' && s.status !== 'error');
    if (busy) throw badRequest(`Invalid volume: Snapshot ${busy.id} status must be available or error, currently ${busy.status}.`);
  }
  beginDelete(env, v, snapshots);
  return emptyHtml(202);
}
