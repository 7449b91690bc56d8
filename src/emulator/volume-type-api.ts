import type { CinderContext, Env } from './env.js';
import { notFound } from './errors.js';
import { json, type ApiRequest, type ApiResponse } from './http.js';
import type { VolumeTypeRecord } from './state.js';
import { DEFAULT_TYPE_NAME, USER_VISIBLE_EXTRA_SPECS } from './volume-types.js';

/** GET /types, /types/{id} (or "default"), /types/{id}/extra_specs[/{key}]. Non-admins see only user-visible extra specs. */

function visibleSpecs(t: VolumeTypeRecord, ctx: CinderContext): Record<string, string> {
  if (ctx.isAdmin) return { ...t.extraSpecs };
  return Object.fromEntries(Object.entries(t.extraSpecs).filter(([k]) => USER_VISIBLE_EXTRA_SPECS.includes(k)));
}

function typeView(t: VolumeTypeRecord, ctx: CinderContext): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    is_public: true,
    description: t.description,
    extra_specs: visibleSpecs(t, ctx),
    qos_specs_id: null,
    'os-volume-type-access:is_public': true,
  };
}

function findType(env: Env, id: string): VolumeTypeRecord {
  const t = id === 'default' ? env.store.typeByNameOrId(DEFAULT_TYPE_NAME) : env.store.types.get(id);
  if (!t) throw notFound(`Volume type ${id} could not be found.`);
  return t;
}

export function listTypes(_req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  return json(200, { volume_types: [...env.store.types.values()].map((t) => typeView(t, ctx)) });
}

export function showType(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  return json(200, { volume_type: typeView(findType(env, req.params.id ?? ''), ctx) });
}

export function listExtraSpecs(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  return json(200, { extra_specs: visibleSpecs(findType(env, req.params.id ?? ''), ctx) });
}

export function showExtraSpec(req: ApiRequest, ctx: CinderContext, env: Env): ApiResponse {
  const t = findType(env, req.params.id ?? '');
  const key = req.params.key ?? '';
  const value = visibleSpecs(t, ctx)[key];
  if (value === undefined) throw notFound(`Volume Type ${t.id} has no extra specs with key ${key}.`);
  return json(200, { [key]: value });
}
