import { join } from 'node:path';
import { getVolume } from './access.js';
import type { CinderContext, Env } from './env.js';
import { badRequest, notFound } from './errors.js';
import { copySparse, removeFile } from './files.js';
import { emptyHtml, json, jsonBody, type ApiRequest, type ApiResponse } from './http.js';
import { newUuid } from './ids.js';
import { listItems } from './listing.js';
import { atLeast } from './microversion.js';
import { reserve } from './quotas.js';
import type { BackupRecord, VolumeRecord } from './state.js';
import { metadataField, optionalString, requireKeys, requireTopLevel, strictBoolField, uuidField } from './validate.js';
import { links, ts } from './views.js';

/**
 * Backups, as Zed's cinder/backup/api.py checks them and the backup service moves them:
 * - create: the volume must be available, or in-use with `force`; it is `backing-up` while the
 *   backup is `creating`, then back to its previous status. `incremental` builds on the volume's
 *   latest backup, which must exist and be available. 202 with only {id, links, name}.
 * - delete: only from available or error, never while an incremental backup depends on it.
 * - restore into a new volume: POST /volumes with `backup_id` (documented from 3.47; the real
 *   Cinder takes it below too): the volume stays `creating` while the backup is `restoring`, then
 *   both are available. The backed-up volume's metadata then replaces the new volume's (name and
 *   description stay), plus `src_backup_id`. A backup restores one volume at a time.
 * Backups outlive their volume and cost `backups` / `backup_gigabytes` quota.
 */

function canSee(ctx: CinderContext, b: BackupRecord): boolean {
  return ctx.isAdmin || ctx.projectId === b.projectId;
}

export function getBackup(env: Env, ctx: CinderContext, id: string): BackupRecord {
  const b = env.store.backups.get(id);
  if (!b || !canSee(ctx, b)) throw notFound(`Backup ${id} could not be found.`);
  return b;
}

function hasDependents(env: Env, b: BackupRecord): boolean {
  for (const other of env.store.backups.values()) if (other.parentId === b.id) return true;
  return false;
}

function backupSummary(b: BackupRecord, req: ApiRequest, ctx: CinderContext): Record<string, unknown> {
  return { id: b.id, links: links(req, ctx, 'backups', b.id), name: b.name };
}

function backupDetail(b: BackupRecord, req: ApiRequest, ctx: CinderContext, env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: b.id,
    status: b.status,
    size: b.size,
    object_count: b.status === 'available' ? 1 : 0,
    availability_zone: b.availabilityZone,
    container: b.filePath ? 'emulator' : null,
    created_at: ts(b.createdAt),
    updated_at: ts(b.updatedAt),
    name: b.name,
    description: b.description,
    fail_reason: b.status === 'error' ? 'emulator: errorOnCreate' : null,
    volume_id: b.volumeId,
    links: links(req, ctx, 'backups', b.id),
    is_incremental: b.parentId !== null,
    has_dependent_backups: hasDependents(env, b),
    snapshot_id: null,
    data_timestamp: ts(b.createdAt),
  };
  if (atLeast(ctx.version, '3.43')) out.metadata = { ...b.metadata };
  if (atLeast(ctx.version, '3.56')) out.user_id = b.userId;
  return out;
}

function listBackups(detail: boolean) {
  return (req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse => {
    const all = [...env.store.backups.values()].filter((b) => canSee(ctx, b) && (ctx.isAdmin || b.projectId === ctx.projectId));
    const r = listItems(req, ctx, all, {
      allowedFilters: ['name', 'status', 'volume_id'],
      adminColumns: ['id', 'display_name', 'project_id'],
      field: (b, key) => {
        switch (key) {
          case 'name':
          case 'display_name':
            return b.name;
          case 'status':
            return b.status;
          case 'volume_id':
            return b.volumeId;
          case 'created_at':
            return b.createdAt;
          case 'updated_at':
            return b.updatedAt;
          case 'size':
            return b.size;
          case 'id':
            return b.id;
          case 'project_id':
            return b.projectId;
          default:
            return undefined;
        }
      },
      find: (id) => {
        const b = env.store.backups.get(id);
        return b && canSee(ctx, b) ? b : undefined;
      },
      markerNotFound: (id) => notFound(`Backup ${id} could not be found.`),
      collection: detail ? 'backups/detail' : 'backups',
      linksKey: 'backups_links',
    });
    const body: Record<string, unknown> = {
      backups: r.items.map((b) => (detail ? backupDetail(b, req, ctx, env) : backupSummary(b, req, ctx))),
    };
    if (r.links) body.backups_links = r.links;
    if (r.count !== undefined) body.count = r.count;
    return json(200, body);
  };
}

export const listBackupsSummary = listBackups(false);
export const listBackupsDetail = listBackups(true);

export function showBackup(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  return json(200, { backup: backupDetail(getBackup(env, ctx, req.params.id ?? ''), req, ctx, env) });
}

export function createBackup(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const body = requireTopLevel(jsonBody(req), 'backup');
  requireKeys('backup', body, ['volume_id']);
  const volumeId = uuidField('volume_id', body.volume_id, false);
  const name = optionalString('name', body.name);
  const description = optionalString('description', body.description);
  const incremental = strictBoolField('incremental', body.incremental) ?? false;
  const force = strictBoolField('force', body.force) ?? false;
  const metadata = atLeast(ctx.version, '3.43') ? (metadataField('metadata', body.metadata) ?? {}) : {};
  if (body.snapshot_id !== undefined && body.snapshot_id !== null) throw badRequest('The emulator does not back up snapshots (snapshot_id).');

  const v = getVolume(env, ctx, volumeId ?? '');
  if (v.status !== 'available' && v.status !== 'in-use') {
    throw badRequest(`Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${v.status}".`);
  }
  if (v.status === 'in-use' && !force) throw badRequest('Invalid volume: Backing up an in-use volume must use the force flag.');
  reserve(env, ctx.projectId, { backups: 1, backup_gigabytes: v.size });
  let parent: BackupRecord | undefined;
  if (incremental) {
    // The latest backup of the volume is the parent (Cinder orders by data_timestamp).
    parent = [...env.store.backups.values()].filter((b) => b.volumeId === v.id && b.projectId === ctx.projectId).sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq)[0];
    if (!parent) throw badRequest('Invalid backup: No backups available to do an incremental backup.');
    if (parent.status !== 'available') throw badRequest('Invalid backup: The parent backup must be available for incremental backup.');
  }

  const id = newUuid();
  const b: BackupRecord = {
    id,
    projectId: ctx.projectId,
    userId: ctx.userId,
    volumeId: v.id,
    name: name ?? null,
    description: description ?? null,
    size: v.size,
    status: 'creating',
    metadata,
    volumeMetadata: { ...v.metadata },
    parentId: parent?.id ?? null,
    availabilityZone: v.availabilityZone,
    createdAt: Date.now(),
    updatedAt: null,
    seq: env.store.nextSeq(),
    filePath: v.filePath ? join(env.stateDir, `backup-${id}`) : null,
    generation: 0,
  };
  env.store.backups.set(id, b);
  env.lifecycle.created('backup', b);
  const previous = v.status;
  env.lifecycle.setStatus('volume', v, 'backing-up');
  const sourcePath = v.filePath;
  env.lifecycle.later('backup', b, async () => {
    let ok = true;
    try {
      if (b.filePath && sourcePath) await copySparse(sourcePath, b.filePath, b.size);
    } catch (err) {
      console.error(`cinder emulator: backing up volume ${v.id} failed: ${(err as Error).message}`);
      ok = false;
    }
    if (env.store.volumes.get(v.id) === v && v.status === 'backing-up') env.lifecycle.setStatus('volume', v, previous);
    if (env.store.backups.get(b.id) === b) env.lifecycle.setStatus('backup', b, ok ? 'available' : 'error');
  });
  return json(202, { backup: backupSummary(b, req, ctx) });
}

export function deleteBackup(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const b = getBackup(env, ctx, req.params.id ?? '');
  if (b.status !== 'available' && b.status !== 'error') throw badRequest('Invalid backup: Backup status must be available or error');
  if (hasDependents(env, b)) throw badRequest('Invalid backup: Incremental backups exist for this backup.');
  env.lifecycle.setStatus('backup', b, 'deleting');
  env.lifecycle.later('backup', b, async () => {
    if (b.filePath) await removeFile(b.filePath).catch(() => undefined);
    env.lifecycle.gone('backup', b);
    env.store.backups.delete(b.id);
  });
  return emptyHtml(202);
}

/** The backup a new volume restores (POST /volumes `backup_id`, 3.47), checked as Cinder's create flow does. */
export function backupToRestore(env: Env, ctx: CinderContext, id: string, size: number | undefined): BackupRecord {
  const b = getBackup(env, ctx, id);
  if (b.status !== 'available') throw badRequest("Invalid backup: Originating backup status must be one of 'available' values");
  if (size !== undefined && size < b.size) {
    throw badRequest(`Invalid input received: Volume size ${size}GB cannot be smaller than the backup size ${b.size}GB. It must be >= backup size.`);
  }
  return b;
}

/**
 * Once the raw volume exists: it stays `creating` and the backup is `restoring` while the data is
 * written, then both are available (an error leaves the volume `error_restoring`).
 */
export function restoreInto(env: Env, v: VolumeRecord, b: BackupRecord): void {
  v.metadata.src_backup_id = b.id;
  env.lifecycle.setStatus('backup', b, 'restoring');
  env.lifecycle.later('volume', v, async () => {
    let ok = true;
    try {
      if (v.filePath && b.filePath) await copySparse(b.filePath, v.filePath, v.size);
    } catch (err) {
      console.error(`cinder emulator: restoring backup ${b.id} failed: ${(err as Error).message}`);
      ok = false;
    }
    if (env.store.backups.get(b.id) === b && b.status === 'restoring') env.lifecycle.setStatus('backup', b, 'available');
    // As the backup service's metadata restore (volume_metadata_update with delete): the backed-up
    // volume's metadata replaces the target's; the name and description stay the target's.
    if (ok) v.metadata = { ...b.volumeMetadata, src_backup_id: b.id };
    if (env.store.volumes.get(v.id) === v && v.status === 'creating') env.lifecycle.setStatus('volume', v, ok ? 'available' : 'error_restoring');
  });
}
