import { badRequest, cinderError } from './errors.js';

/**
 * Microversion negotiation as cinder.api.openstack.wsgi does it: the `OpenStack-API-Version:
 * volume X` header (absent → 3.0, `latest` → the maximum), 406 outside [min, max], 400 when the
 * string is not MAJOR.MINOR. The chosen version is echoed in the response.
 */

export interface Version {
  major: number;
  minor: number;
}

export const MIN_VERSION: Version = { major: 3, minor: 0 };

export function parseVersion(text: string): Version | undefined {
  const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}`;
}

export function compareVersions(a: Version, b: Version): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/** True when `v` is at least "3.N". */
export function atLeast(v: Version, text: string): boolean {
  const other = parseVersion(text);
  if (!other) throw new Error(`bad version literal ${text}`);
  return compareVersions(v, other) >= 0;
}

/** Picks the volume entry out of a header that may list several services ("compute 2.1, volume 3.44"). */
function requestedVolumeVersion(headerValue: string | undefined): string | undefined {
  if (!headerValue) return undefined;
  for (const part of headerValue.split(',')) {
    const [service, ...rest] = part.trim().split(/\s+/);
    if (service?.toLowerCase() === 'volume') return rest.join(' ');
  }
  return undefined;
}

export function negotiate(headerValue: string | undefined, max: Version): Version {
  const requested = requestedVolumeVersion(headerValue);
  if (requested === undefined) return MIN_VERSION;
  if (requested.toLowerCase() === 'latest') return max;
  const v = parseVersion(requested);
  if (!v) {
    throw badRequest(`API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`);
  }
  if (compareVersions(v, MIN_VERSION) < 0 || compareVersions(v, max) > 0) {
    throw cinderError(
      406,
      `Version ${requested} is not supported by the API. Minimum is ${formatVersion(MIN_VERSION)} and maximum is ${formatVersion(max)}.`,
    );
  }
  return v;
}
