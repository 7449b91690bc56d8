import { describe, expect, it } from 'vitest';
import type { PollCounters } from './poll.js';
import { statusSource } from './poll-status.js';

interface Obj {
  id: string;
  status: string;
}

function setup() {
  const objects = new Map<string, Obj>();
  const lists: string[] = [];
  const gets: string[] = [];
  const counters: PollCounters = { listCalls: 0, getCalls: 0 };
  const source = statusSource<Obj>({
    listByStatus: async (status) => {
      lists.push(status);
      return [...objects.values()].filter((o) => o.status === status).map((o) => ({ ...o }));
    },
    getOne: async (id) => {
      gets.push(id);
      const o = objects.get(id);
      return o ? { ...o } : undefined;
    },
    counters,
  });
  const put = (id: string, status: string): void => void objects.set(id, { id, status });
  return { objects, lists, gets, counters, source, put };
}

describe('statusSource (snapshots)', () => {
  it('lists each status in flight once and reads by id only what left its status', async () => {
    const { lists, gets, source, put, objects } = setup();
    for (let i = 0; i < 300; i++) put(`other-${i}`, 'available');
    put('c1', 'creating');
    put('c2', 'creating');
    put('d1', 'deleting');
    put('d2', 'deleting');
    const t = (id: string, status: string) => ({ id, since: 0, last: { id, status } });
    let r = await source.poll([t('c1', 'creating'), t('c2', 'creating'), t('d1', 'deleting'), t('d2', 'deleting')], {});
    expect(lists.sort()).toEqual(['creating', 'deleting']);
    expect(gets).toEqual([]);
    expect(r.seen.size).toBe(4);

    put('c1', 'available');
    objects.delete('d1');
    put('d2', 'error_deleting');
    lists.length = 0;
    r = await source.poll([t('c1', 'creating'), t('c2', 'creating'), t('d1', 'deleting'), t('d2', 'deleting')], {});
    expect(lists.sort()).toEqual(['creating', 'deleting']);
    expect(gets.sort()).toEqual(['c1', 'd1', 'd2']);
    expect(r.seen.get('c1')?.status).toBe('available');
    expect(r.seen.get('d2')?.status).toBe('error_deleting');
    expect([...r.gone]).toEqual(['d1']);
    // the 300 unrelated snapshots were never listed
    expect(r.listed?.every((o) => !o.id.startsWith('other-'))).toBe(true);
  });

  it('reads a target of unknown state by id', async () => {
    const { gets, lists, source, put } = setup();
    put('a', 'creating');
    const r = await source.poll([{ id: 'a', since: 0 }], {});
    expect(lists).toEqual([]);
    expect(gets).toEqual(['a']);
    expect(r.seen.get('a')?.status).toBe('creating');
  });
});
