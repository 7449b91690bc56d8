import { encodeId, type CinderApi } from './api.js';
import type { CallOptions } from './request.js';
import { asArray, asObject, nextMarkerFromLinks, parseSnapshot, type Page, type Snapshot } from './types.js';

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

/** One page of `/snapshots/detail`; the marker rule is listVolumes' (limit + 1, see volumes.ts). */
export async function listSnapshots(api: CinderApi, r: ListSnapshotsRequest = {}, opts?: CallOptions): Promise<Page<Snapshot>> {
  const ask = r.limit !== undefined && r.limit > 0 ? r.limit + 1 : undefined;
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
    const items = asArray(o.snapshots, 'body.snapshots').map((v, i) => parseSnapshot(v, `snapshots[${i}]`));
    const linked = nextMarkerFromLinks(o.snapshots_links);
    if (ask === undefined) return linked !== undefined && items.length > 0 ? { items, nextMarker: linked } : { items };
    const limit = ask - 1;
    if (items.length > limit) {
      const page = items.slice(0, limit);
      return { items: page, nextMarker: page[page.length - 1]?.id };
    }
    if (linked !== undefined && items.length > 0) return { items, nextMarker: items[items.length - 1]?.id };
    return { items };
  });
}

export async function listAllSnapshots(api: CinderApi, f: Omit<ListSnapshotsRequest, 'limit' | 'marker'> = {}, opts?: CallOptions): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  const seen = new Set<string>();
  let marker: string | undefined;
  for (;;) {
    const page = await listSnapshots(api, { ...f, marker }, opts);
    for (const s of page.items) {
      if (!seen.has(s.id)) {
        seen.add(s.id);
        out.push(s);
      }
    }
    if (page.nextMarker === undefined || page.nextMarker === marker || page.items.length === 0) return out;
    marker = page.nextMarker;
  }
}

export async function deleteSnapshot(api: CinderApi, id: string, opts?: CallOptions): Promise<void> {
  await api.send({ method: 'DELETE', route: '/snapshots/{id}', path: `/snapshots/${encodeId(id)}` }, opts);
}
