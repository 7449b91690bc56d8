import { nextMarkerFromLinks, type Page } from './types.js';

/**
 * Marker paging as Cinder's list calls need it (volumes, snapshots, backups alike). Cinder puts
 * a `next` link on a full last page and then serves an empty page. To hand out a marker only
 * when more items really exist, we ask for `limit + 1` and keep the extra item as evidence: more
 * than `limit` came back → a next page exists and its marker is our last item; otherwise there
 * is none. When the server capped the page below what we asked for (osapi_max_limit) yet linked
 * a next page, the marker is given ("unknown" case) and the following page may be empty.
 * Without `limit` the server's own page size applies and its `next` link is passed through.
 */

/** The `limit` to send for a caller's limit: one more, or none. */
export function limitToAsk(limit: number | undefined): number | undefined {
  return limit !== undefined && limit > 0 ? limit + 1 : undefined;
}

/** The page the caller sees from what Cinder answered to `ask` (see the header). */
export function pageOf<T extends { id: string }>(items: T[], links: unknown, ask: number | undefined): Page<T> {
  const linked = nextMarkerFromLinks(links);
  if (ask === undefined) return linked !== undefined && items.length > 0 ? { items, nextMarker: linked } : { items };
  const limit = ask - 1;
  if (items.length > limit) {
    const page = items.slice(0, limit);
    return { items: page, nextMarker: page[page.length - 1]?.id };
  }
  if (linked !== undefined && items.length > 0) return { items, nextMarker: items[items.length - 1]?.id };
  return { items };
}

/** Every item, page after page (the trailing empty page ends the walk), each id once. */
export async function walkPages<T extends { id: string }>(fetch: (marker: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  const seen = new Set<string>();
  let marker: string | undefined;
  for (;;) {
    const page = await fetch(marker);
    for (const item of page.items) {
      if (!seen.has(item.id)) {
        seen.add(item.id);
        out.push(item);
      }
    }
    // A marker we already passed would loop forever on a misbehaving server.
    if (page.nextMarker === undefined || page.nextMarker === marker || page.items.length === 0) return out;
    marker = page.nextMarker;
  }
}
