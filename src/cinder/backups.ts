import { encodeId, type CinderApi } from './api.js';
import type { CallOptions } from './request.js';
import { limitToAsk, pageOf, walkPages } from './list-pages.js';
import { asArray, asObject, parseBackup, ShapeError, type Backup, type Page } from './types.js';

/**
 * Backups (Cinder's backup service). A backup outlives its volume and lives off the volume's
 * backend; restoring one is `POST /volumes` with `backup_id` (3.47, volumes.ts).
 */

export interface CreateBackupRequest {
  volumeId: string;
  name: string;
  description?: string;
  /** Back up from the last backup of the volume; Cinder refuses it when there is none. */
  incremental?: boolean;
  /** Needed for an in-use volume: Cinder then backs up a temporary copy, not the live device. */
  force?: boolean;
  /** Backup metadata (3.43; the driver's minimum microversion is above it). */
  metadata?: Record<string, string>;
}

export interface ListBackupsRequest {
  name?: string;
  volumeId?: string;
  status?: string;
  limit?: number;
  marker?: string;
}

/**
 * `POST /backups` answers 202 with only `{id, name, links}`: the caller reads the backup for the
 * rest. Not idempotent: a lost reply surfaces as outcomeUnknown, the caller re-finds by name.
 */
export async function createBackup(api: CinderApi, r: CreateBackupRequest, opts?: CallOptions): Promise<{ id: string }> {
  const backup: Record<string, unknown> = { volume_id: r.volumeId, name: r.name };
  if (r.description !== undefined) backup.description = r.description;
  if (r.incremental === true) backup.incremental = true;
  if (r.force === true) backup.force = true;
  if (r.metadata !== undefined) backup.metadata = r.metadata;
  const req = { method: 'POST' as const, route: '/backups', path: '/backups', body: { backup } };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => {
    const o = asObject(asObject(b, 'body').backup, 'backup');
    if (typeof o.id !== 'string' || o.id === '') throw new ShapeError('backup.id is missing or not a string');
    return { id: o.id };
  });
}

export async function getBackup(api: CinderApi, id: string, opts?: CallOptions): Promise<Backup> {
  const req = { method: 'GET' as const, route: '/backups/{id}', path: `/backups/${encodeId(id)}` };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => parseBackup(asObject(b, 'body').backup));
}

/**
 * One page of `/backups/detail` (marker rules: list-pages.ts). Cinder's default resource filters
 * for backups are name, status and volume_id only: metadata is matched by the caller.
 */
export async function listBackups(api: CinderApi, r: ListBackupsRequest = {}, opts?: CallOptions): Promise<Page<Backup>> {
  const ask = limitToAsk(r.limit);
  const req = {
    method: 'GET' as const,
    route: '/backups/detail',
    path: '/backups/detail',
    query: { name: r.name, volume_id: r.volumeId, status: r.status, limit: ask, marker: r.marker },
  };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => {
    const o = asObject(b, 'body');
    return pageOf(asArray(o.backups, 'body.backups').map((v, i) => parseBackup(v, `backups[${i}]`)), o.backups_links, ask);
  });
}

export function listAllBackups(api: CinderApi, f: Omit<ListBackupsRequest, 'limit' | 'marker'> = {}, opts?: CallOptions): Promise<Backup[]> {
  return walkPages((marker) => listBackups(api, { ...f, marker }, opts));
}

export async function deleteBackup(api: CinderApi, id: string, opts?: CallOptions): Promise<void> {
  await api.send({ method: 'DELETE', route: '/backups/{id}', path: `/backups/${encodeId(id)}` }, opts);
}
