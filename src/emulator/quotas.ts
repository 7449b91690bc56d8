import type { CinderContext, Env } from './env.js';
import { badRequest, forbiddenPolicy, overLimit } from './errors.js';
import { json, jsonBody, type ApiRequest, type ApiResponse } from './http.js';
import type { EmulatorQuotas } from './types.js';
import { boolFromString, isObject } from './validate.js';

/**
 * Quotas and limits, enforced for real: creating over the limit is 413 overLimit with
 * Retry-After 0 and Cinder's messages. Usage is computed from what exists (volumes and snapshots
 * count until they are gone; snapshots consume gigabytes too, as in Cinder by default).
 */

export const CINDER_DEFAULT_QUOTAS: Required<EmulatorQuotas> = {
  volumes: 10,
  snapshots: 10,
  gigabytes: 1000,
  backups: 10,
  backup_gigabytes: 1000,
  groups: 10,
  per_volume_gigabytes: -1,
};

export function defaultQuotas(overrides: EmulatorQuotas = {}): Record<string, number> {
  return { ...CINDER_DEFAULT_QUOTAS, ...overrides };
}

function typeKeys(env: Env): string[] {
  return [...env.store.types.values()].flatMap((t) => [`volumes_${t.name}`, `gigabytes_${t.name}`, `snapshots_${t.name}`]);
}

export function limitsOf(env: Env, projectId: string): Record<string, number> {
  const out: Record<string, number> = { ...env.defaultQuotas };
  for (const k of typeKeys(env)) out[k] = -1;
  return { ...out, ...(env.store.quotaOverrides.get(projectId) ?? {}) };
}

export function usageOf(env: Env, projectId: string): Record<string, number> {
  const u: Record<string, number> = {};
  for (const k of Object.keys(limitsOf(env, projectId))) u[k] = 0;
  for (const v of env.store.volumes.values()) {
    if (v.projectId !== projectId) continue;
    const tname = env.store.types.get(v.typeId)?.name ?? '';
    u.volumes = (u.volumes ?? 0) + 1;
    u.gigabytes = (u.gigabytes ?? 0) + v.size;
    u[`volumes_${tname}`] = (u[`volumes_${tname}`] ?? 0) + 1;
    u[`gigabytes_${tname}`] = (u[`gigabytes_${tname}`] ?? 0) + v.size;
  }
  for (const s of env.store.snapshots.values()) {
    if (s.projectId !== projectId) continue;
    const vol = env.store.volumes.get(s.volumeId);
    const tname = vol ? (env.store.types.get(vol.typeId)?.name ?? '') : '';
    u.snapshots = (u.snapshots ?? 0) + 1;
    u.gigabytes = (u.gigabytes ?? 0) + s.size;
    u[`snapshots_${tname}`] = (u[`snapshots_${tname}`] ?? 0) + 1;
    u[`gigabytes_${tname}`] = (u[`gigabytes_${tname}`] ?? 0) + s.size;
  }
  for (const g of env.store.groups.values()) if (g.projectId === projectId) u.groups = (u.groups ?? 0) + 1;
  for (const b of env.store.backups.values()) {
    if (b.projectId !== projectId) continue;
    u.backups = (u.backups ?? 0) + 1;
    u.backup_gigabytes = (u.backup_gigabytes ?? 0) + b.size;
  }
  return u;
}

/**
 * Raises 413 like cinder.quota_utils.process_reserve_over_quota when `delta` does not fit.
 * Deltas are checked in insertion order (volumes/snapshots before gigabytes, as Cinder reserves).
 */
export function reserve(env: Env, projectId: string, delta: Record<string, number>): void {
  const limits = limitsOf(env, projectId);
  // Counting usage walks the project: skipped when nothing asked for has a limit (Cinder reads
  // a usage table instead, so a large project must not make the emulator's creates slower).
  const limited = Object.keys(delta).some((k) => (limits[k] ?? -1) >= 0);
  const usage = limited ? usageOf(env, projectId) : {};
  const perVolume = limits.per_volume_gigabytes ?? -1;
  if (delta.gigabytes !== undefined && perVolume >= 0 && delta.gigabytes > perVolume && delta.volumes !== undefined) {
    throw overLimit(
      `VolumeSizeExceedsLimit: Requested volume size ${delta.gigabytes}G is larger than maximum allowed limit ${perVolume}G.`,
      0,
    );
  }
  for (const [key, add] of Object.entries(delta)) {
    const limit = limits[key];
    if (limit === undefined || limit < 0) continue;
    const used = usage[key] ?? 0;
    if (used + add <= limit) continue;
    if (key.startsWith('gigabytes')) {
      throw overLimit(
        `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed ${key} quota. Requested ${add}G, quota is ${limit}G and ${used}G has been consumed.`,
        0,
      );
    }
    if (key.startsWith('snapshots')) {
      throw overLimit(`SnapshotLimitExceeded: Maximum number of snapshots allowed (${limit}) exceeded`, 0);
    }
    throw overLimit(`VolumeLimitExceeded: Maximum number of volumes allowed (${limit}) exceeded for quota '${key}'.`, 0);
  }
}

function checkProjectAccess(ctx: CinderContext, projectId: string, rule: string): void {
  if (!ctx.isAdmin && ctx.projectId !== projectId) throw forbiddenPolicy(rule);
}

export function showQuotaSet(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const projectId = req.params.project ?? '';
  checkProjectAccess(ctx, projectId, 'volume_extension:quotas:show');
  const limits = limitsOf(env, projectId);
  const withUsage = boolFromString(req.query.get('usage') ?? 'false');
  const usage = usageOf(env, projectId);
  const set: Record<string, unknown> = { id: projectId };
  for (const [k, limit] of Object.entries(limits)) {
    set[k] = withUsage ? { limit, in_use: usage[k] ?? 0, reserved: 0 } : limit;
  }
  return json(200, { quota_set: set });
}

export function showQuotaDefaults(req: ApiRequest, _ctx: CinderContext, env: Env): ApiResponse {
  const set: Record<string, unknown> = { id: req.params.project ?? '' };
  Object.assign(set, env.defaultQuotas);
  for (const k of typeKeys(env)) set[k] = -1;
  return json(200, { quota_set: set });
}

export function updateQuotaSet(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  if (!ctx.isAdmin) throw forbiddenPolicy('volume_extension:quotas:update');
  const projectId = req.params.project ?? '';
  const body = jsonBody(req);
  if (!isObject(body) || !isObject(body.quota_set)) throw badRequest("Missing required element 'quota_set' in request body.");
  const known = Object.keys(limitsOf(env, projectId));
  const bad = Object.keys(body.quota_set).filter((k) => !known.includes(k));
  if (bad.length > 0) throw badRequest(`Bad key(s) in quota set: ${bad.join(',')}`);
  const next = { ...(env.store.quotaOverrides.get(projectId) ?? {}) };
  for (const [k, v] of Object.entries(body.quota_set)) {
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? parseInt(v, 10) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${String(v)}. ${String(v)} is not of type 'integer', 'string'`);
    if (n < -1) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${n}. ${n} is less than the minimum of -1`);
    next[k] = n;
  }
  env.store.quotaOverrides.set(projectId, next);
  const limits = limitsOf(env, projectId);
  return json(200, { quota_set: limits });
}

export function showLimits(_req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const l = limitsOf(env, ctx.projectId);
  const u = usageOf(env, ctx.projectId);
  return json(200, {
    limits: {
      rate: [],
      absolute: {
        totalSnapshotsUsed: u.snapshots ?? 0,
        maxTotalBackups: l.backups,
        maxTotalVolumeGigabytes: l.gigabytes,
        maxTotalSnapshots: l.snapshots,
        maxTotalBackupGigabytes: l.backup_gigabytes,
        totalBackupGigabytesUsed: 0,
        maxTotalVolumes: l.volumes,
        totalVolumesUsed: u.volumes ?? 0,
        totalBackupsUsed: 0,
        totalGigabytesUsed: u.gigabytes ?? 0,
      },
    },
  });
}
