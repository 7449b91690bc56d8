import { describe, expect, it } from 'vitest';
import { NameLookups } from './name-lookups.js';

interface Obj {
  id: string;
  name?: string;
}

/** A fetch whose answers the test releases by hand, recording what was asked. */
function fakeFetch(objects: () => Obj[]) {
  const asked: string[] = [];
  const gates: Array<() => void> = [];
  const gate = (): Promise<void> => new Promise((r) => gates.push(r));
  return {
    asked,
    release: async (): Promise<void> => {
      for (const g of gates.splice(0)) g();
      await new Promise((r) => setTimeout(r, 0));
    },
    fetch: {
      byName: async (name: string) => {
        asked.push(`name:${name}`);
        await gate();
        return objects().filter((o) => o.name === name);
      },
      byCluster: async () => {
        asked.push('cluster');
        await gate();
        return objects();
      },
    },
  };
}

const ctx = () => ({ signal: new AbortController().signal, deadline: Date.now() + 10_000 });

describe('NameLookups', () => {
  it('answers a lone lookup with one list filtered on its name', async () => {
    const f = fakeFetch(() => [{ id: '1', name: 'a' }, { id: '2', name: 'b' }]);
    const l = new NameLookups<Obj>(f.fetch);
    const p = l.find('a', ctx());
    await f.release();
    expect(await p).toEqual([{ id: '1', name: 'a' }]);
    expect(f.asked).toEqual(['name:a']);
  });

  it('gathers the lookups asked while one is in flight into one cluster walk', async () => {
    let objs: Obj[] = [];
    const f = fakeFetch(() => objs);
    const l = new NameLookups<Obj>(f.fetch);
    const first = l.find('a', ctx());
    const rest = ['b', 'c', 'd', 'b'].map((n) => l.find(n, ctx()));
    // created after the later lookups were asked: their round starts after that, so it sees it
    objs = [{ id: '9', name: 'c' }];
    await f.release();
    await f.release();
    expect(await first).toEqual([]);
    expect((await Promise.all(rest)).map((r) => r.map((o) => o.id))).toEqual([[], ['9'], [], []]);
    expect(f.asked).toEqual(['name:a', 'cluster']);
    expect(l.counters).toEqual({ rounds: 2, byName: 1, byCluster: 1 });
  });

  it('prefers one list per name when the cluster walk would take more pages than there are names', async () => {
    const many = Array.from({ length: 2500 }, (_, i) => ({ id: `${i}`, name: `n${i}` }));
    const f = fakeFetch(() => many);
    const l = new NameLookups<Obj>(f.fetch);
    const p0 = l.find('x', ctx());
    const p1 = [l.find('n1', ctx()), l.find('n2', ctx())];
    await f.release();
    await f.release();
    await Promise.all([p0, ...p1]);
    expect(f.asked).toEqual(['name:x', 'cluster']);
    // the walk took 3 pages: two names are cheaper asked one by one
    const p2 = l.find('y', ctx());
    const p3 = [l.find('n5', ctx()), l.find('n6', ctx())];
    await f.release();
    await f.release();
    expect((await Promise.all(p3)).map((r) => r.map((o) => o.id))).toEqual([['5'], ['6']]);
    await p2;
    expect(f.asked.slice(2)).toEqual(['name:y', 'name:n5', 'name:n6']);
  });

  it('fails every lookup of a failed round, and a caller\'s abort ends only its own wait', async () => {
    const f = fakeFetch(() => []);
    let fail = true;
    const l = new NameLookups<Obj>({
      byName: async (n) => {
        await f.fetch.byName(n);
        if (fail) throw new Error('Cinder said 503');
        return [];
      },
      byCluster: f.fetch.byCluster,
    });
    const ctl = new AbortController();
    const a = l.find('a', { signal: ctl.signal, deadline: Date.now() + 10_000 });
    // handled from the start: it is rejected before the assertion below looks at it
    const b = l.find('a', ctx()).then(
      () => 'resolved',
      (e: unknown) => (e as Error).message,
    );
    ctl.abort(new Error('cancelled'));
    await expect(a).rejects.toThrow('cancelled');
    // a's round still ran and failed; b, asked meanwhile, gets the next round, which fails too
    await f.release();
    await f.release();
    expect(await b).toBe('Cinder said 503');
    fail = false;
    const c = l.find('a', ctx());
    await f.release();
    await expect(c).resolves.toEqual([]);
  });
});
