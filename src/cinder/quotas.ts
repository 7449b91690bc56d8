import { internal } from '../util/errors.js';
import { encodeId, type CinderApi } from './api.js';
import { CinderError, isForbidden, isNotFound } from './errors.js';
import type { CallOptions } from './request.js';
import {
  asArray,
  asObject,
  parseAvailabilityZone,
  parseLimits,
  parseQuotaUsage,
  parseVolumeType,
  stringMapOf,
  type AbsoluteLimits,
  type AvailabilityZone,
  type QuotaUsage,
  type VolumeType,
} from './types.js';

/** Quotas, limits, availability zones and volume types: the read-only capacity/topology side. */

export async function getQuotaUsage(api: CinderApi, opts?: CallOptions): Promise<QuotaUsage> {
  const project = await api.projectId(opts);
  if (!project) throw internal('cannot read quota usage: the session has no project id');
  const req = {
    method: 'GET' as const,
    route: '/os-quota-sets/{project}',
    path: `/os-quota-sets/${encodeId(project)}`,
    query: { usage: 'true' },
  };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => parseQuotaUsage(asObject(b, 'body').quota_set));
}

export async function getLimits(api: CinderApi, opts?: CallOptions): Promise<AbsoluteLimits> {
  const req = { method: 'GET' as const, route: '/limits', path: '/limits' };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => parseLimits(asObject(b, 'body').limits));
}

export async function listAvailabilityZones(api: CinderApi, opts?: CallOptions): Promise<AvailabilityZone[]> {
  const req = { method: 'GET' as const, route: '/os-availability-zone', path: '/os-availability-zone' };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => asArray(asObject(b, 'body').availabilityZoneInfo, 'body.availabilityZoneInfo').map((z) => parseAvailabilityZone(z)));
}

export async function listVolumeTypes(api: CinderApi, opts?: CallOptions): Promise<VolumeType[]> {
  const req = { method: 'GET' as const, route: '/types', path: '/types' };
  const res = await api.send(req, opts);
  return api.parse(req, res, (b) => asArray(asObject(b, 'body').volume_types, 'body.volume_types').map((t, i) => parseVolumeType(t, `volume_types[${i}]`)));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A volume type by name or id, with its extra specs. An id is fetched directly; a name is looked
 * up in the type list (GET /types/{x} accepts only ids on older releases). When the type object
 * shows no extra specs, `GET /types/{id}/extra_specs` is tried; a 403 there (non-admin policy)
 * leaves the user-visible specs Cinder already showed. Unknown → typed not-found (404).
 */
export async function getVolumeType(api: CinderApi, nameOrId: string, opts?: CallOptions): Promise<VolumeType> {
  let type: VolumeType | undefined;
  if (UUID.test(nameOrId)) {
    const req = { method: 'GET' as const, route: '/types/{id}', path: `/types/${encodeId(nameOrId)}` };
    try {
      const res = await api.send(req, opts);
      type = api.parse(req, res, (b) => parseVolumeType(asObject(b, 'body').volume_type));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  if (!type) {
    const all = await listVolumeTypes(api, opts);
    type = all.find((t) => t.name === nameOrId) ?? all.find((t) => t.id === nameOrId);
  }
  if (!type) {
    throw new CinderError({
      kind: 'http',
      status: 404,
      cinderCode: 'itemNotFound',
      method: 'GET',
      route: '/types',
      message: `Volume type with name or id ${nameOrId} could not be found.`,
    });
  }
  if (Object.keys(type.extraSpecs).length > 0) return type;
  const req = { method: 'GET' as const, route: '/types/{id}/extra_specs', path: `/types/${encodeId(type.id)}/extra_specs` };
  try {
    const res = await api.send(req, opts);
    const specs = api.parse(req, res, (b) => stringMapOf(asObject(b, 'body').extra_specs, 'body.extra_specs'));
    return parseVolumeType({ id: type.id, name: type.name, description: type.description, is_public: type.isPublic, extra_specs: specs });
  } catch (err) {
    if (isForbidden(err) || isNotFound(err)) return type;
    throw err;
  }
}
