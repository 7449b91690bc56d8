import { encodeId, type CinderApi } from './api.js';
import type { CallOptions } from './request.js';
import { limitToAsk, pageOf, walkPages } from './list-pages.js';
import { asArray, asObject, parseSnapshot, type Page, type Snapshot } from './types.js';

/** Snapshots. `getSnapshot` throws a typed not-found, like getVolume. */

export interface CreateSnapshotRequest {
  volumeId: string;
  name: string;
  /**
   * Snapshot an in-use volume. Only sent when asked and only below 3.66 — from 3.66 Cinder
   * snapshots in-use volumes without it (and `force: false` is refused there).
   */
  force?: boolean;
  metadata?: Record<string, string>;
  description?: string;
}

export interface ListSnapshotsRequest {
  volumeId?: string;
  name?: string;
  status?: string;
  /** Every pair must match. */
  metadata?: Record<string, string>;
  limit?: number;
  marker?: string;
}

export async function createSnapshot(api: CinderApi, r: CreateSnapshotRequest, opts?: CallOptions): Promise<Snapshot> {
  const features = await api.features(opts);
  const snapshot: Record<string, unknown> = { volume_id: r.volumeId, name: r.name };
  if (r.description !== undefined) snapshot.description = r.description;
  if (r.metadata !== undefined) snapshot.metadata = r.metadata;
  if (r.force === true && !features.snapshotWithoutForce) snapshot.force = true;
  const req = { method: 'POST' as const, route: '/snapshots', path: '/snapshots', body: { snapshot } };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => parseSnapshot(asObject(b, 'body').snapshot));
}

export async function getSnapshot(api: CinderApi, id: string, opts?: CallOptions): Promise<Snapshot> {
  const req = { method: 'GET' as const, route: '/snapshots/{id}', path: `/snapshots/${encodeId(id)}` };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => parseSnapshot(asObject(b, 'body').snapshot));
}

/** One page of `/snapshots/detail` (marker rules: list-pages.ts). */
export async function listSnapshots(api: CinderApi, r: ListSnapshotsRequest = {}, opts?: CallOptions): Promise<Page<Snapshot>> {
  const ask = limitToAsk(r.limit);
  const req = {
    method: 'GET' as const,
    route: '/snapshots/detail',
    path: '/snapshots/detail',
    query: {
      volume_id: r.volumeId,
      name: r.name,
      status: r.status,
      metadata: r.metadata && Object.keys(r.metadata).length > 0 ? JSON.stringify(r.metadata) : undefined,
      limit: ask,
      marker: r.marker,
    },
  };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => {
    const o = asObject(b, 'body');
    return pageOf(asArray(o.snapshots, 'body.snapshots').map((v, i) => parseSnapshot(v, `snapshots[${i}]`)), o.snapshots_links, ask);
  });
}

export function listAllSnapshots(api: CinderApi, f: Omit<ListSnapshotsRequest, 'limit' | 'marker'> = {}, opts?: CallOptions): Promise<Snapshot[]> {
  return walkPages((marker) => listSnapshots(api, { ...f, marker }, opts));
}

export async function deleteSnapshot(api: CinderApi, id: string, opts?: CallOptions): Promise<void> {
  await api.send({ method: 'DELETE', route: '/snapshots/{id}', path: `/snapshots/${encodeId(id)}` }, opts);
}

/** Merges keys into the snapshot's metadata (POST …/metadata). */
export async function setSnapshotMetadata(api: CinderApi, id: string, metadata: Record<string, string>, opts?: CallOptions): Promise<void> {
  await api.send({ method: 'POST', route: '/snapshots/{id}/metadata', path: `/snapshots/${encodeId(id)}/metadata`, body: { metadata }, idempotent: true }, opts);
}
