/**
 * Finding Cinder in a Keystone v3 service catalog:
 * `[{type:"volumev3", endpoints:[{interface:"public", region_id:"RegionOne", region:"RegionOne", url:"…/v3/<project>"}]}]`.
 * Newer clouds register the type `block-storage`; both are accepted, `block-storage` first.
 */

export const BLOCK_STORAGE_TYPES = ['block-storage', 'volumev3'] as const;

export interface EndpointQuery {
  types?: readonly string[];
  region?: string;
  interface?: 'public' | 'internal' | 'admin';
}

export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}

interface Endpoint {
  interface: string;
  region?: string;
  url: string;
}

function readEndpoints(entry: Record<string, unknown>): Endpoint[] {
  const raw = entry.endpoints;
  if (!Array.isArray(raw)) return [];
  const out: Endpoint[] = [];
  for (const e of raw) {
    if (!e || typeof e !== 'object') continue;
    const r = e as Record<string, unknown>;
    if (typeof r.url !== 'string' || typeof r.interface !== 'string') continue;
    const region = typeof r.region_id === 'string' ? r.region_id : typeof r.region === 'string' ? r.region : undefined;
    out.push({ interface: r.interface, region, url: r.url });
  }
  return out;
}

/** The URL of the wanted service, or a CatalogError saying what was there instead. */
export function findEndpoint(catalog: unknown, q: EndpointQuery = {}): string {
  if (!Array.isArray(catalog)) throw new CatalogError('the token carries no service catalog');
  const types = q.types ?? BLOCK_STORAGE_TYPES;
  const iface = q.interface ?? 'public';
  const seen: string[] = [];
  for (const type of types) {
    for (const entry of catalog) {
      if (!entry || typeof entry !== 'object') continue;
      const rec = entry as Record<string, unknown>;
      if (rec.type !== type) continue;
      for (const ep of readEndpoints(rec)) {
        seen.push(`${type}/${ep.interface}/${ep.region ?? '-'}`);
        if (ep.interface !== iface) continue;
        if (q.region !== undefined && ep.region !== q.region) continue;
        return ep.url;
      }
    }
  }
  const wanted = `${types.join(' or ')} endpoint with interface ${iface}${q.region ? ` in region ${q.region}` : ''}`;
  throw new CatalogError(
    `the service catalog has no ${wanted}${seen.length ? ` (found: ${seen.join(', ')})` : ' (no block-storage service at all)'}`,
  );
}

/** Substitutes the project id into a configured endpoint template (`…/v3/%(project_id)s`). */
export function substituteProject(url: string, projectId: string | undefined): string {
  if (projectId === undefined) return url;
  return url.replace(/%\((project_id|tenant_id)\)s|\$\((project_id|tenant_id)\)s/g, projectId);
}
