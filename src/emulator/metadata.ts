import type { CinderContext, CinderHandler, Env } from './env.js';
import { badRequest, notFound } from './errors.js';
import { emptyHtml, json, jsonBody, type ApiRequest } from './http.js';
import { isObject, metadataField } from './validate.js';

/**
 * The metadata sub-resource shared by volumes and snapshots:
 * GET/POST (merge)/PUT (replace) …/metadata and GET/PUT/DELETE …/metadata/{key}.
 */
interface Owner {
  metadata: Record<string, string>;
  updatedAt: number | null;
}

export function metadataHandlers(
  get: (env: Env, ctx: CinderContext, id: string) => Owner,
  kind: 'Volume' | 'Snapshot',
): { index: CinderHandler; create: CinderHandler; replace: CinderHandler; show: CinderHandler; updateKey: CinderHandler; remove: CinderHandler } {
  const owner = (req: ApiRequest, ctx: CinderContext, env: Env): Owner => get(env, ctx, req.params.id ?? '');
  const body = (req: ApiRequest, key: 'metadata' | 'meta'): Record<string, string> => {
    const b = jsonBody(req);
    if (!isObject(b) || !isObject(b[key])) throw badRequest('Malformed request body');
    return metadataField(key, b[key]) ?? {};
  };
  const missing = (id: string, key: string) => notFound(`${kind} ${id} has no metadata with key ${key}.`);
  // Seen on the real Cinder: a snapshot's metadata change bumps its updated_at, a volume's does
  // not (volume metadata lives in its own table) — which the 3.60 updated_at filter exposes.
  const touch = (o: Owner): void => {
    if (kind === 'Snapshot') o.updatedAt = Date.now();
  };
  return {
    index: (req, ctx, env) => json(200, { metadata: { ...owner(req, ctx, env).metadata } }),
    create: (req, ctx, env) => {
      const o = owner(req, ctx, env);
      o.metadata = { ...o.metadata, ...body(req, 'metadata') };
      touch(o);
      return json(200, { metadata: { ...o.metadata } });
    },
    replace: (req, ctx, env) => {
      const o = owner(req, ctx, env);
      o.metadata = body(req, 'metadata');
      touch(o);
      return json(200, { metadata: { ...o.metadata } });
    },
    show: (req, ctx, env) => {
      const o = owner(req, ctx, env);
      const key = req.params.key ?? '';
      const value = o.metadata[key];
      if (value === undefined) throw missing(req.params.id ?? '', key);
      return json(200, { meta: { [key]: value } });
    },
    updateKey: (req, ctx, env) => {
      const o = owner(req, ctx, env);
      const meta = body(req, 'meta');
      const keys = Object.keys(meta);
      if (keys.length > 1) throw badRequest('Request body contains too many items.');
      const key = req.params.key ?? '';
      if (keys[0] !== key) throw badRequest('Request body and URI mismatch');
      o.metadata = { ...o.metadata, ...meta };
      touch(o);
      return json(200, { meta });
    },
    remove: (req, ctx, env) => {
      const o = owner(req, ctx, env);
      const key = req.params.key ?? '';
      if (o.metadata[key] === undefined) throw missing(req.params.id ?? '', key);
      const { [key]: _gone, ...rest } = o.metadata;
      o.metadata = rest;
      touch(o);
      return { ...emptyHtml(200) };
    },
  };
}
