import { describe, expect, it } from 'vitest';
import { ManualClock, flush } from '../../test/fakes/manual-clock.js';
import type { CallOptions } from './request.js';
import { BatchedWaiter, type WaitResult, type WaitVerdict } from './waiter.js';

interface Obj {
  id: string;
  status: string;
}

/** A fake Cinder kind: objects whose status the test changes, and a list that counts calls. */
class FakeKind {
  readonly objects = new Map<string, Obj>();
  listCalls: number[] = [];
  getCalls = 0;
  failNext = 0;
  constructor(private readonly clock: ManualClock) {}
  add(id: string, status = 'creating'): void {
    this.objects.set(id, { id, status });
  }
  set(id: string, status: string): void {
    this.objects.set(id, { id, status });
  }
  source(withGet = true) {
    return {
      listAll: async (_o: CallOptions): Promise<Obj[]> => {
        this.listCalls.push(this.clock.now());
        await Promise.resolve();
        if (this.failNext > 0) {
          this.failNext--;
          throw new Error('Cinder said 503');
        }
        return [...this.objects.values()].map((o) => ({ ...o }));
      },
      getOne: withGet
        ? async (id: string): Promise<Obj | undefined> => {
            this.getCalls++;
            await Promise.resolve();
            const o = this.objects.get(id);
            return o ? { ...o } : undefined;
          }
        : undefined,
    };
  }
}

const untilAvailable = (o: Obj): WaitVerdict => (o.status === 'available' ? 'done' : 'pending');

function setup(opts: { withGet?: boolean } = {}) {
  const clock = new ManualClock();
  const kind = new FakeKind(clock);
  const waiter = new BatchedWaiter<Obj>(kind.source(opts.withGet ?? true), { kind: 'volume', clock, minIntervalMs: 100, maxIntervalMs: 1000, factor: 1.5 });
  return { clock, kind, waiter };
}

describe('BatchedWaiter', () => {
  it('200 concurrent waits share at most one list call per tick', async () => {
    const { clock, kind, waiter } = setup();
    const ids = Array.from({ length: 200 }, (_, i) => `v${i}`);
    for (const id of ids) kind.add(id);
    const results: Array<WaitResult<Obj>> = [];
    const all = Promise.all(ids.map((id) => waiter.waitFor(id, { until: untilAvailable, deadline: clock.now() + 60_000 }).then((r) => results.push(r))));

    // Volumes become available in four waves while time passes.
    for (let wave = 0; wave < 4; wave++) {
      await clock.advance(400);
      for (const id of ids.slice(wave * 50, wave * 50 + 50)) kind.set(id, 'available');
    }
    await clock.advance(3000);
    await all;

    expect(results).toHaveLength(200);
    expect(results.every((r) => r.outcome === 'done')).toBe(true);
    const stats = waiter.stats();
    expect(stats.listCalls).toBe(kind.listCalls.length);
    expect(stats.listCalls).toBeLessThanOrEqual(stats.ticks);
    // one list per tick: no two list calls at the same instant
    expect(new Set(kind.listCalls).size).toBe(kind.listCalls.length);
    // 200 waits took a handful of ticks, not 200 × ticks calls
    expect(stats.listCalls).toBeLessThan(15);
    expect(kind.getCalls).toBe(0);
  });

  it('backs off ×1.5 up to the maximum, and resets when a new waiter arrives', async () => {
    const { clock, kind, waiter } = setup();
    kind.add('a');
    kind.add('b');
    void waiter.waitFor('a', { until: untilAvailable });
    void waiter.waitFor('b', { until: untilAvailable });
    const start = clock.now();
    await clock.advance(5000);
    const gaps = kind.listCalls.map((t, i) => t - (i === 0 ? start : (kind.listCalls[i - 1] as number)));
    expect(gaps.slice(0, 6)).toEqual([100, 150, 225, 338, 507, 761]);
    expect(Math.max(...gaps)).toBe(1000);

    // A new waiter: the next tick comes after the minimum interval again.
    kind.add('c');
    const before = kind.listCalls.length;
    const t0 = clock.now();
    void waiter.waitFor('c', { until: untilAvailable });
    await clock.advance(100);
    expect(kind.listCalls.length).toBe(before + 1);
    expect(kind.listCalls.at(-1)).toBeLessThanOrEqual(t0 + 100);
    waiter.stop();
  });

  it('stops polling when nothing waits', async () => {
    const { clock, kind, waiter } = setup();
    kind.add('a');
    kind.add('b');
    const pa = waiter.waitFor('a', { until: untilAvailable });
    const pb = waiter.waitFor('b', { until: untilAvailable });
    kind.set('a', 'available');
    kind.set('b', 'available');
    await clock.advance(100);
    await expect(pa).resolves.toMatchObject({ outcome: 'done' });
    await expect(pb).resolves.toMatchObject({ outcome: 'done' });
    expect(waiter.active()).toBe(false);
    expect(clock.pending()).toBe(0);
    const calls = kind.listCalls.length;
    await clock.advance(60_000);
    expect(kind.listCalls.length).toBe(calls);
  });

  it('treats error* statuses as terminal even when until() would keep waiting', async () => {
    const { clock, kind, waiter } = setup();
    kind.add('a');
    kind.add('b');
    const pa = waiter.waitFor('a', { until: untilAvailable });
    const pb = waiter.waitFor('b', { until: (o) => (o.status === 'deleted' ? 'done' : 'pending') });
    kind.set('a', 'error');
    kind.set('b', 'error_deleting');
    await clock.advance(100);
    await expect(pa).resolves.toEqual({ outcome: 'failed', object: { id: 'a', status: 'error' } });
    await expect(pb).resolves.toEqual({ outcome: 'failed', object: { id: 'b', status: 'error_deleting' } });
  });

  it('resolves gone when the id is missing from the listing (delete waits)', async () => {
    const { clock, kind, waiter } = setup();
    kind.add('a', 'deleting');
    kind.add('b', 'deleting');
    const pa = waiter.waitFor('a', { until: () => 'pending' });
    const pb = waiter.waitFor('b', { until: () => 'pending' });
    await clock.advance(100);
    kind.objects.delete('a');
    await clock.advance(150);
    await expect(pa).resolves.toEqual({ outcome: 'gone' });
    kind.objects.delete('b');
    await clock.advance(225);
    await expect(pb).resolves.toEqual({ outcome: 'gone' });
  });

  it('resolves timeout at the deadline with the last state seen, and aborted on the signal', async () => {
    const { clock, kind, waiter } = setup();
    kind.add('a');
    kind.add('b');
    const ctl = new AbortController();
    const pa = waiter.waitFor('a', { until: untilAvailable, deadline: clock.now() + 1000 });
    const pb = waiter.waitFor('b', { until: untilAvailable, signal: ctl.signal });
    await clock.advance(999);
    ctl.abort();
    await expect(pb).resolves.toMatchObject({ outcome: 'aborted', last: { id: 'b', status: 'creating' } });
    await clock.advance(1);
    await expect(pa).resolves.toMatchObject({ outcome: 'timeout', last: { id: 'a', status: 'creating' } });
    expect(waiter.active()).toBe(false);
  });

  it('an expired deadline resolves timeout at once without a call', async () => {
    const { clock, kind, waiter } = setup();
    await expect(waiter.waitFor('a', { until: untilAvailable, deadline: clock.now() })).resolves.toEqual({ outcome: 'timeout' });
    await clock.advance(1000);
    expect(kind.listCalls).toHaveLength(0);
  });

  it('keeps polling through a failed list call and reports it on timeout', async () => {
    const { clock, kind, waiter } = setup();
    kind.add('a');
    kind.add('b');
    kind.failNext = 1;
    const pa = waiter.waitFor('a', { until: untilAvailable, deadline: clock.now() + 5000 });
    void waiter.waitFor('b', { until: untilAvailable, deadline: clock.now() + 120 });
    await clock.advance(120);
    kind.set('a', 'available');
    await clock.advance(200);
    await expect(pa).resolves.toMatchObject({ outcome: 'done' });
    expect(waiter.stats().failedCalls).toBe(1);

    kind.failNext = 100;
    kind.add('c');
    kind.add('d');
    const pc = waiter.waitFor('c', { until: untilAvailable, deadline: clock.now() + 500 });
    void waiter.waitFor('d', { until: untilAvailable, deadline: clock.now() + 500 });
    await clock.advance(500);
    await expect(pc).resolves.toMatchObject({ outcome: 'timeout', lastError: 'Cinder said 503' });
  });

  it('uses one GET per tick when a single id waits', async () => {
    const { clock, kind, waiter } = setup();
    kind.add('a');
    const pa = waiter.waitFor('a', { until: untilAvailable });
    await clock.advance(100);
    kind.set('a', 'available');
    await clock.advance(150);
    await expect(pa).resolves.toMatchObject({ outcome: 'done' });
    expect(kind.getCalls).toBe(2);
    expect(kind.listCalls).toHaveLength(0);
  });

  it('does not judge a waiter that arrived while a list call was in flight', async () => {
    const clock = new ManualClock();
    let release: (() => void) | undefined;
    const objects: Obj[] = [{ id: 'a', status: 'creating' }];
    let calls = 0;
    const waiter = new BatchedWaiter<Obj>(
      {
        listAll: async () => {
          calls++;
          const snapshot = objects.map((o) => ({ ...o }));
          if (calls === 1) await new Promise<void>((r) => (release = r));
          return snapshot;
        },
      },
      { kind: 'volume', clock, minIntervalMs: 100, singleGet: false },
    );
    const pa = waiter.waitFor('a', { until: untilAvailable });
    await clock.advance(100);
    // The list is in flight; 'b' is created and starts waiting now.
    objects.push({ id: 'b', status: 'creating' });
    let bDone = false;
    const pb = waiter.waitFor('b', { until: untilAvailable }).then((r) => {
      bDone = true;
      return r;
    });
    release?.();
    await flush();
    expect(bDone).toBe(false); // not "gone" although the in-flight listing lacked it
    objects[1]!.status = 'available';
    objects[0]!.status = 'available';
    await clock.advance(100);
    await expect(pb).resolves.toMatchObject({ outcome: 'done' });
    await expect(pa).resolves.toMatchObject({ outcome: 'done' });
  });

  it('several waits on one id each get their own verdict', async () => {
    const { clock, kind, waiter } = setup({ withGet: false });
    kind.add('a', 'downloading');
    const p1 = waiter.waitFor('a', { until: (o) => (o.status === 'downloading' ? 'done' : 'pending') });
    const p2 = waiter.waitFor('a', { until: untilAvailable });
    await clock.advance(100);
    await expect(p1).resolves.toMatchObject({ outcome: 'done' });
    kind.set('a', 'available');
    await clock.advance(150);
    await expect(p2).resolves.toMatchObject({ outcome: 'done' });
  });
});

describe('BatchedWaiter watch', () => {
  it('reports the other listed objects that share the watched key, before the verdict', async () => {
    const clock = new ManualClock();
    const objects: Array<Obj & { name: string }> = [
      { id: 'mine', status: 'creating', name: 'pvc-1' },
      { id: 'twin', status: 'creating', name: 'pvc-1' },
      { id: 'other', status: 'creating', name: 'pvc-2' },
    ];
    const waiter = new BatchedWaiter<Obj & { name: string }>(
      { listAll: async () => objects.map((o) => ({ ...o })) },
      { kind: 'volume', clock, minIntervalMs: 100, singleGet: false, keyOf: (o) => o.name },
    );
    const reports: string[][] = [];
    objects[0]!.status = 'available';
    const p = waiter.waitFor('mine', { until: untilAvailable, watch: { key: 'pvc-1', report: (os) => reports.push(os.map((o) => o.id)) } });
    await clock.advance(100);
    await expect(p).resolves.toMatchObject({ outcome: 'done' });
    expect(reports).toEqual([['twin']]);
  });

  it('hands the caller\'s current state and since to the source', async () => {
    const clock = new ManualClock();
    const polls: unknown[] = [];
    const waiter = new BatchedWaiter<Obj>(
      {
        poll: async (targets) => {
          polls.push(targets.map((t) => ({ ...t })));
          return { seen: new Map([['a', { id: 'a', status: 'available' }]]), gone: new Set<string>() };
        },
      },
      { kind: 'volume', clock, minIntervalMs: 100 },
    );
    const t0 = clock.now();
    const p = waiter.waitFor('a', { until: untilAvailable, current: { id: 'a', status: 'creating' }, since: t0 - 5000 });
    await clock.advance(100);
    await expect(p).resolves.toMatchObject({ outcome: 'done' });
    expect(polls).toEqual([[{ id: 'a', since: t0 - 5000, wantsList: false, last: { id: 'a', status: 'creating' } }]]);
  });
});

describe('BatchedWaiter pace', () => {
  it('ticks every 100 ms by default, and every second once every wait is older than a minute', async () => {
    const clock = new ManualClock();
    const kind = new FakeKind(clock);
    kind.add('a');
    kind.add('b');
    const waiter = new BatchedWaiter<Obj>(kind.source(), { kind: 'volume', clock });
    void waiter.waitFor('a', { until: untilAvailable });
    void waiter.waitFor('b', { until: untilAvailable });
    const start = clock.now();
    await clock.advance(1000);
    expect(kind.listCalls.length).toBe(10);
    await clock.advance(59_000);
    const before = kind.listCalls.length;
    await clock.advance(10_000);
    expect(kind.listCalls.length - before).toBeLessThanOrEqual(11);
    expect(kind.listCalls.length - before).toBeGreaterThanOrEqual(9);
    // a new wait: fast again
    kind.add('c');
    void waiter.waitFor('c', { until: untilAvailable });
    const mark = kind.listCalls.length;
    await clock.advance(1000);
    expect(kind.listCalls.length - mark).toBe(10);
    expect(clock.now() - start).toBe(71_000);
    waiter.stop();
  });
});
