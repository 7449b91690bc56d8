import type { CinderContext, Env } from './env.js';
import { notFound } from './errors.js';
import type { ApiRequest } from './http.js';
import type { AttachmentRecord, SnapshotRecord, VolumeRecord } from './state.js';
import { boolFromString } from './validate.js';

/**
 * Project scoping: a caller sees its own project's objects; an admin sees everything when fetching
 * by id and, with ?all_tenants=1, when listing. Unknown or foreign ids are Cinder's 404s.
 */

function canSee(ctx: CinderContext, projectId: string): boolean {
  return ctx.isAdmin || ctx.projectId === projectId;
}

export function getVolume(env: Env, ctx: CinderContext, id: string): VolumeRecord {
  const v = env.store.volumes.get(id);
  if (!v || !canSee(ctx, v.projectId)) throw notFound(`Volume ${id} could not be found.`);
  return v;
}

export function getSnapshot(env: Env, ctx: CinderContext, id: string): SnapshotRecord {
  const s = env.store.snapshots.get(id);
  if (!s || !canSee(ctx, s.projectId)) throw notFound(`Snapshot ${id} could not be found.`);
  return s;
}

export function getAttachment(env: Env, ctx: CinderContext, id: string): AttachmentRecord {
  const a = env.store.attachments.get(id);
  if (!a || !canSee(ctx, a.projectId)) {
    throw notFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`);
  }
  return a;
}

function listScope(req: ApiRequest, ctx: CinderContext): (projectId: string) => boolean {
  const all = ctx.isAdmin && boolFromString(req.query.get('all_tenants') ?? '0');
  return (p) => all || p === ctx.projectId;
}

export function listableVolumes(req: ApiRequest, ctx: CinderContext, env: Env): VolumeRecord[] {
  const inScope = listScope(req, ctx);
  return [...env.store.volumes.values()].filter((v) => inScope(v.projectId));
}

export function listableSnapshots(req: ApiRequest, ctx: CinderContext, env: Env): SnapshotRecord[] {
  const inScope = listScope(req, ctx);
  return [...env.store.snapshots.values()].filter((s) => inScope(s.projectId));
}

export function listableAttachments(req: ApiRequest, ctx: CinderContext, env: Env): AttachmentRecord[] {
  const inScope = listScope(req, ctx);
  return [...env.store.attachments.values()].filter((a) => inScope(a.projectId));
}
