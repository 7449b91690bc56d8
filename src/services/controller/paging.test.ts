import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { notFound } from '../../../test/controller/fake-cinder.js';
import type { Page } from '../../cinder/types.js';

import { checkMaxEntries } from '../../csi/controller-requests.js';
import { pageFrom } from './paging.js';

/** A marker-paged list like Cinder's: an unknown marker is a 404. */
function source(ids: string[]) {
  const calls: Array<{ marker?: string; limit?: number }> = [];
  const fetch = async (q: { marker?: string; limit?: number }): Promise<Page<{ id: string }>> => {
    calls.push(q);
    let start = 0;
    if (q.marker) {
      const i = ids.indexOf(q.marker);
      if (i < 0) throw notFound();
      start = i + 1;
    }
    const rest = ids.slice(start);
    const limit = q.limit ?? 2; // the server's own page size when none is asked
    const items = rest.slice(0, limit).map((id) => ({ id }));
    return rest.length > limit ? { items, nextMarker: items[items.length - 1]?.id as string } : { items };
  };
  return { fetch, calls };
}

describe('paging over Cinder markers', () => {
  const ids = Array.from({ length: 7 }, () => randomUUID());

  it('walks pages with tokens and ends without one', async () => {
    const { fetch } = source(ids);
    const seen: string[] = [];
    let token = '';
    for (let i = 0; i < 10; i++) {
      const page = await pageFrom(fetch, token, 3);
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((x) => x.id));
      token = page.nextToken;
      if (!token) break;
    }
    expect(seen).toEqual(ids);
  });

  it('max_entries 0 returns everything, walking the server pages', async () => {
    const { fetch, calls } = source(ids);
    const page = await pageFrom(fetch, undefined, 0);
    expect(page.items.map((x) => x.id)).toEqual(ids);
    expect(page.nextToken).toBe('');
    expect(calls.length).toBe(4);
  });

  it('survives the deletion of the last item of the previous page', async () => {
    const live = [...ids];
    const { fetch } = source(live);
    const first = await pageFrom(fetch, '', 3);
    live.splice(2, 1); // the page's last item is deleted before the next call
    const second = await pageFrom(fetch, first.nextToken, 3);
    expect(second.items.map((x) => x.id)).toEqual(ids.slice(3, 6));
  });

  it('ABORTED when every marker in the token is gone, or the token is foreign', async () => {
    const live = [...ids];
    const { fetch } = source(live);
    const first = await pageFrom(fetch, '', 3);
    live.splice(0, 3);
    await expect(pageFrom(fetch, first.nextToken, 3)).rejects.toMatchObject({ kind: 'aborted' });
    await expect(pageFrom(fetch, 'not-a-token', 3)).rejects.toMatchObject({ kind: 'aborted' });
  });

  it('negative max_entries is INVALID_ARGUMENT', () => {
    expect(() => checkMaxEntries(-1)).toThrow(expect.objectContaining({ kind: 'invalid' }));
    expect(checkMaxEntries(undefined)).toBe(0);
  });
});
