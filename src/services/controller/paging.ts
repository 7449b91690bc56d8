import { isNotFound } from '../../cinder/errors.js';
import type { Page } from '../../cinder/types.js';
import { aborted } from '../../util/errors.js';
import { decodeToken, encodeToken } from './tokens.js';

/** One page (or, with max_entries 0, everything) from a Cinder marker-paged list. */
export interface Paged<T> {
  items: T[];
  nextToken: string;
}

export type FetchPage<T> = (q: { marker?: string; limit?: number }) => Promise<Page<T>>;

/**
 * max_entries 0 means no limit: every remaining page is walked. Otherwise one Cinder page of
 * exactly max_entries, and a next_token only when Cinder has more (the client asks limit + 1).
 */
export async function pageFrom<T extends { id: string }>(fetch: FetchPage<T>, startingToken: string | undefined, maxEntries: number): Promise<Paged<T>> {
  const markers = decodeToken(startingToken);
  const limit = maxEntries > 0 ? maxEntries : undefined;
  let page = await firstPage(fetch, markers, limit);
  if (limit !== undefined) {
    if (page.nextMarker === undefined) return { items: page.items, nextToken: '' };
    const ids = page.items.length > 0 ? page.items.map((i) => i.id) : [page.nextMarker];
    return { items: page.items, nextToken: encodeToken(ids) };
  }
  const items = [...page.items];
  const seen = new Set(items.map((i) => i.id));
  while (page.nextMarker !== undefined && page.items.length > 0) {
    page = await fetch({ marker: page.nextMarker });
    for (const i of page.items) {
      if (seen.has(i.id)) continue;
      seen.add(i.id);
      items.push(i);
    }
  }
  return { items, nextToken: '' };
}

/** Tries the token's markers in order: the page's last item may have been deleted since. */
async function firstPage<T>(fetch: FetchPage<T>, markers: string[] | undefined, limit: number | undefined): Promise<Page<T>> {
  if (!markers) return fetch({ ...(limit ? { limit } : {}) });
  for (const marker of markers) {
    try {
      return await fetch({ marker, ...(limit ? { limit } : {}) });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  throw aborted('starting_token no longer matches anything (the items it pointed at are gone); start listing again without one');
}
