import type { CinderContext, Env } from './env.js';
import { forbiddenPolicy } from './errors.js';
import { json, type ApiRequest, type ApiResponse } from './http.js';
import { backendOf, hostOf, type BackendName } from './backends.js';

/** Availability zones, and the admin views of services and pools (what operators look at). */

export function listZones(_req: ApiRequest, _ctx: CinderContext, env: Env): ApiResponse {
  return json(200, {
    availabilityZoneInfo: env.zones.map((zoneName) => ({ zoneName, zoneState: { available: true } })),
  });
}

function backends(env: Env): BackendName[] {
  return [...new Set([...env.store.types.values()].map((t) => backendOf(t)))];
}

export function listServices(_req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  if (!ctx.isAdmin) throw forbiddenPolicy('volume_extension:services:index');
  const now = new Date().toISOString().slice(0, 19) + '.000000';
  const zone = env.zones[0] ?? 'nova';
  const services = [
    { binary: 'cinder-scheduler', host: 'cinder-emulator', zone, status: 'enabled', state: 'up', updated_at: now, disabled_reason: null },
    ...backends(env).map((b) => ({
      binary: 'cinder-volume',
      host: hostOf(b).split('#')[0],
      zone,
      status: 'enabled',
      state: 'up',
      updated_at: now,
      disabled_reason: null,
    })),
  ];
  return json(200, { services });
}

export function listPools(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  if (!ctx.isAdmin) throw forbiddenPolicy('scheduler_extension:scheduler_stats:get_pools');
  const detail = /^(1|t|true|on|y|yes)$/i.test(req.query.get('detail') ?? '');
  const pools = backends(env).map((b) => {
    const name = hostOf(b);
    if (!detail) return { name };
    return {
      name,
      capabilities: {
        volume_backend_name: b,
        storage_protocol: b === 'iscsi' ? 'iSCSI' : b === 'rbd' ? 'ceph' : 'local',
        vendor_name: 'cinder-metal-csi emulator',
        driver_version: '1.0.0',
        total_capacity_gb: 1000,
        free_capacity_gb: 1000,
        reserved_percentage: 0,
        thin_provisioning_support: true,
        multiattach: true,
        pool_name: b,
      },
    };
  });
  return json(200, { pools });
}
