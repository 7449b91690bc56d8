/**
 * Microversion handling. Cinder advertises its range in the version document (`GET /` on the
 * API root answers 300 with `{"versions":[{id:"v3.0",version:"3.70",min_version:"3.0"}]}`;
 * `GET /v3/` answers `{"version":{…}}`). We pick the highest version both sides support and
 * pin it on every request, so behaviour never drifts with server upgrades.
 */

export interface Microversion {
  major: number;
  minor: number;
}

/** The oldest server we work with: 3.44 brings attachments with `os-complete`. */
export const MIN_MICROVERSION: Microversion = { major: 3, minor: 44 };
/** The newest we were written and tested against (Cinder Zed). */
export const MAX_MICROVERSION: Microversion = { major: 3, minor: 70 };

export function parseMicroversion(text: string): Microversion | undefined {
  const m = /^\s*v?(\d+)\.(\d+)\s*$/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function formatMicroversion(v: Microversion): string {
  return `${v.major}.${v.minor}`;
}

export function compareMicroversion(a: Microversion, b: Microversion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export function atLeast(v: Microversion, major: number, minor: number): boolean {
  return compareMicroversion(v, { major, minor }) >= 0;
}

/** What the negotiated version lets the driver use (each flag names the version it needs). */
export interface CinderFeatures {
  /** The version sent in every `OpenStack-API-Version: volume X.Y` header. */
  microversion: string;
  /** The server's own maximum, for reporting. */
  serverMaxVersion: string;
  /** 3.42: extend an in-use volume. */
  inUseExtend: boolean;
  /** 3.45: `with_count` on lists (at 3.44 the unknown parameter empties the list!). */
  withCount: boolean;
  /** 3.47: create a volume from a backup (`backup_id` on POST /volumes). */
  volumeFromBackup: boolean;
  /** 3.48: volumes report `shared_targets` and `service_uuid`. */
  sharedTargets: boolean;
  /** 3.54: attachment `mode` (ro/rw). */
  attachMode: boolean;
  /** 3.60: `created_at`/`updated_at` comparison filters on lists. */
  updatedAtFilters: boolean;
  /** 3.66: snapshots of in-use volumes without `force`. */
  snapshotWithoutForce: boolean;
}

export function featuresFor(v: Microversion, serverMax: Microversion = v): CinderFeatures {
  return {
    microversion: formatMicroversion(v),
    serverMaxVersion: formatMicroversion(serverMax),
    inUseExtend: atLeast(v, 3, 42),
    withCount: atLeast(v, 3, 45),
    volumeFromBackup: atLeast(v, 3, 47),
    sharedTargets: atLeast(v, 3, 48),
    attachMode: atLeast(v, 3, 54),
    updatedAtFilters: atLeast(v, 3, 60),
    snapshotWithoutForce: atLeast(v, 3, 66),
  };
}

export interface ServerVersionRange {
  min: Microversion;
  max: Microversion;
}

export class MicroversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MicroversionError';
  }
}

/**
 * Reads the v3 entry out of a version document (either the root's `versions` list or the
 * `/v3/` document's single `version`). A v3 entry without `version` (a pre-microversion server)
 * counts as 3.0.
 */
export function parseVersionDocument(doc: unknown): ServerVersionRange {
  if (!doc || typeof doc !== 'object') throw new MicroversionError('the version document is not a JSON object');
  const rec = doc as Record<string, unknown>;
  const entries: unknown[] = Array.isArray(rec.versions) ? rec.versions : rec.version && typeof rec.version === 'object' ? [rec.version] : [];
  for (const e of entries) {
    if (!e || typeof e !== 'object') continue;
    const entry = e as Record<string, unknown>;
    const id = typeof entry.id === 'string' ? entry.id : '';
    if (!/^v3(\.|$)/.test(id)) continue;
    const maxText = typeof entry.version === 'string' && entry.version !== '' ? entry.version : '3.0';
    const minText = typeof entry.min_version === 'string' && entry.min_version !== '' ? entry.min_version : '3.0';
    const max = parseMicroversion(maxText);
    const min = parseMicroversion(minText);
    if (!max || !min) throw new MicroversionError(`the v3 version entry has an unreadable range (${minText}..${maxText})`);
    return { min, max };
  }
  throw new MicroversionError('the version document lists no v3 API');
}

/** The highest version in both ranges; a clear error when the server is too old (or too new). */
export function negotiate(
  server: ServerVersionRange,
  ours: { min: Microversion; max: Microversion } = { min: MIN_MICROVERSION, max: MAX_MICROVERSION },
): Microversion {
  const chosen = compareMicroversion(server.max, ours.max) < 0 ? server.max : ours.max;
  if (compareMicroversion(chosen, ours.min) < 0) {
    throw new MicroversionError(
      `Cinder offers API microversions up to ${formatMicroversion(server.max)}, this driver needs at least ${formatMicroversion(ours.min)} (attachments with os-complete)`,
    );
  }
  if (compareMicroversion(chosen, server.min) < 0) {
    throw new MicroversionError(
      `Cinder requires API microversion ${formatMicroversion(server.min)} or newer, this driver speaks up to ${formatMicroversion(ours.max)}`,
    );
  }
  return chosen;
}

/**
 * The API root whose `GET` returns the version document: the endpoint without its `/v3[/project]`
 * tail (a path prefix before it, as behind a reverse proxy, is kept).
 */
export function versionRootOf(endpoint: string): string {
  const u = new URL(endpoint);
  const path = u.pathname.replace(/\/v3(\/.*)?$/, '/');
  u.pathname = path === '' ? '/' : path;
  u.search = '';
  u.hash = '';
  return u.toString();
}
