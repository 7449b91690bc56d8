import { aborted } from '../../util/errors.js';

/**
 * Paging tokens for ListVolumes/ListSnapshots. Cinder pages by marker (the id of the last item
 * seen) and answers 404 when that item is gone; but the CO may delete the last volume of a page
 * before asking for the next one. So a token carries the last few ids of the page, newest
 * marker first: when one is gone the next still finds the place (items sort newest first, so
 * later creations never land between them). Opaque to the CO, versioned, validated on the way
 * back in: anything else is an invalid token → ABORTED, as the spec asks.
 */
const PREFIX = 'm1.';
export const TOKEN_MARKERS = 3;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `ids`: the page's ids in list order; the token keeps the last TOKEN_MARKERS, last first. */
export function encodeToken(ids: readonly string[]): string {
  if (ids.length === 0) throw new Error('a paging token needs at least one id');
  const markers = ids.slice(-TOKEN_MARKERS).reverse();
  return PREFIX + Buffer.from(JSON.stringify(markers)).toString('base64url');
}

/** The markers to try in order; undefined for an empty token (start from the beginning). */
export function decodeToken(token: string | undefined): string[] | undefined {
  if (!token) return undefined;
  const bad = () => aborted(`starting_token ${JSON.stringify(token.slice(0, 80))} is not valid; start listing again without one`);
  if (!token.startsWith(PREFIX)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > TOKEN_MARKERS) throw bad();
  if (!parsed.every((m): m is string => typeof m === 'string' && UUID.test(m))) throw bad();
  return parsed;
}

export function isUuid(id: string): boolean {
  return UUID.test(id);
}
