import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import type { Clock } from './clock.js';
import { CinderError } from './errors.js';
import { featuresFor, parseMicroversion } from './microversion.js';
import type { PollCounters, PollTarget } from './poll.js';
import { volumeChangesSource } from './poll-changes.js';
import type { Volume } from './types.js';
import type { VolumeFilter } from './volumes.js';

/** A fake Cinder holding volumes with an update time, answering the filters the source uses. */
class FakeVolumes {
  readonly rows = new Map<string, { v: Volume; updated: number | null }>();
  readonly lists: VolumeFilter[] = [];
  readonly gets: string[] = [];
  warnings: string[] = [];
  constructor(
    readonly version: string,
    private readonly time: { t: number },
  ) {}
  put(id: string, status: string, opts: { updated?: number | null; metadata?: Record<string, string>; name?: string } = {}): void {
    const v: Volume = { id, status, size: 1, metadata: opts.metadata ?? {}, attachments: [], multiattach: false, ...(opts.name ? { name: opts.name } : {}) };
    this.rows.set(id, { v, updated: opts.updated === undefined ? this.time.t : opts.updated });
  }
  client() {
    const mv = parseMicroversion(this.version);
    if (!mv) throw new Error('bad version');
    return {
      features: async () => featuresFor(mv),
      listAllVolumes: async (f: VolumeFilter = {}) => {
        this.lists.push(f);
        return [...this.rows.values()]
          .filter(({ v, updated }) => {
            if (f.status !== undefined && v.status !== f.status) return false;
            if (f.updatedSince !== undefined && (updated === null || updated < f.updatedSince)) return false;
            return Object.entries(f.metadata ?? {}).every(([k, x]) => v.metadata[k] === x);
          })
          .map(({ v }) => ({ ...v }));
      },
      getVolume: async (id: string) => {
        this.gets.push(id);
        const r = this.rows.get(id);
        if (!r) throw new CinderError({ kind: 'http', status: 404, method: 'GET', route: '/volumes/{id}', message: 'not found' });
        return { ...r.v };
      },
    };
  }
}

function setup(version = '3.70', extra: { clusterTag?: { key: string; value: string } } = {}) {
  const time = { t: 1_000_000 };
  const clock = { now: () => time.t } as Clock;
  const fake = new FakeVolumes(version, time);
  const counters: PollCounters = { listCalls: 0, getCalls: 0 };
  const log = silentLogger();
  const warnings: string[] = [];
  log.warn = ((_o: unknown, msg?: string) => warnings.push(String(msg))) as typeof log.warn;
  const source = volumeChangesSource({ client: fake.client(), clock, log, counters, marginMs: 30_000, livenessMs: 10_000, ...extra });
  return { time, fake, counters, source, warnings };
}

const target = (id: string, status: string, since: number, more: Partial<PollTarget<Volume>> = {}): PollTarget<Volume> => ({
  id,
  since,
  wantsList: true,
  last: { id, status, size: 1, metadata: {}, attachments: [], multiattach: false },
  ...more,
});

describe('volumeChangesSource', () => {
  it('asks only for what changed since the earliest target needs it, minus the margin', async () => {
    const { time, fake, counters, source } = setup();
    for (let i = 0; i < 500; i++) fake.put(`old-${i}`, 'available', { updated: time.t - 3_600_000 });
    fake.put('a', 'creating');
    fake.put('b', 'creating');
    time.t += 1000;
    fake.put('a', 'available');
    const r = await source.poll([target('a', 'creating', 1_000_000), target('b', 'creating', 1_000_500)], {});
    expect(fake.lists).toEqual([{ updatedSince: 1_000_000 - 30_000 }]);
    expect(counters).toEqual({ listCalls: 1, getCalls: 0 });
    expect(r.seen.get('a')?.status).toBe('available');
    expect(r.seen.get('b')?.status).toBe('creating');
    expect(r.gone.size).toBe(0);
    // the project's 500 untouched volumes were never part of the answer
    expect(r.listed?.map((v) => v.id).sort()).toEqual(['a', 'b']);
  });

  it('follows deletes with the deleting list, and tells gone from failed with the changes list', async () => {
    const { time, fake, source } = setup();
    fake.put('gone', 'deleting');
    fake.put('failing', 'deleting');
    fake.put('still', 'deleting');
    const targets = [target('gone', 'deleting', time.t), target('failing', 'deleting', time.t), target('still', 'deleting', time.t)];
    time.t += 200;
    fake.rows.delete('gone');
    fake.put('failing', 'error_deleting');
    const r = await source.poll(targets, {});
    expect(fake.lists[0]).toEqual({ status: 'deleting' });
    expect(fake.lists[1]).toEqual({ updatedSince: 1_000_000 - 30_000 });
    expect([...r.gone]).toEqual(['gone']);
    expect(r.seen.get('failing')?.status).toBe('error_deleting');
    expect(r.seen.get('still')?.status).toBe('deleting');
  });

  it('needs no second list while every deleting target is still deleting', async () => {
    const { fake, source, time } = setup();
    fake.put('a', 'deleting');
    fake.put('b', 'deleting');
    await source.poll([target('a', 'deleting', time.t), target('b', 'deleting', time.t)], {});
    expect(fake.lists).toEqual([{ status: 'deleting' }]);
  });

  it('reads a lone target by id unless its wait watches the list', async () => {
    const { fake, counters, source, time } = setup();
    fake.put('a', 'available');
    const r = await source.poll([target('a', 'creating', time.t, { wantsList: false })], {});
    expect(r.seen.get('a')?.status).toBe('available');
    expect(counters).toEqual({ listCalls: 0, getCalls: 1 });
    const r2 = await source.poll([target('zz', 'deleting', time.t, { wantsList: false })], {});
    expect([...r2.gone]).toEqual(['zz']);
  });

  it('reads a target without news for the liveness interval by id, one per tick (what no list shows)', async () => {
    const { fake, source, time } = setup();
    fake.put('a', 'creating', { updated: null });
    fake.put('b', 'creating', { updated: null });
    const ts = [target('a', 'creating', time.t), target('b', 'creating', time.t)];
    await source.poll(ts, {});
    expect(fake.gets).toEqual([]);
    time.t += 10_000;
    // 'a' was created and deleted between ticks: no list can show it
    fake.rows.delete('a');
    const r = await source.poll(ts, {});
    expect(fake.gets).toEqual(['a']);
    expect([...r.gone]).toEqual(['a']);
    time.t += 100;
    await source.poll([ts[1] as PollTarget<Volume>], {});
    expect(fake.gets).toEqual(['a', 'b']);
  });

  it('reads a target of unknown state by id first', async () => {
    const { fake, source, time } = setup();
    fake.put('a', 'deleting', { updated: time.t - 3_600_000 });
    const r = await source.poll([{ id: 'a', since: time.t }, target('b', 'creating', time.t)], {});
    expect(fake.gets).toEqual(['a']);
    expect(r.seen.get('a')?.status).toBe('deleting');
  });

  it('narrows to the cluster tag only when every target carries it', async () => {
    const tag = { key: 'cluster', value: 'c1' };
    const { fake, source, time } = setup('3.70', { clusterTag: tag });
    const tagged = (id: string): PollTarget<Volume> => ({ ...target(id, 'creating', time.t), last: { id, status: 'creating', size: 1, metadata: { cluster: 'c1' }, attachments: [], multiattach: false } });
    await source.poll([tagged('a'), tagged('b')], {});
    expect(fake.lists.at(-1)).toEqual({ updatedSince: time.t - 30_000, metadata: { cluster: 'c1' } });
    await source.poll([tagged('a'), target('c', 'creating', time.t)], {});
    expect(fake.lists.at(-1)).toEqual({ updatedSince: time.t - 30_000 });
  });

  it('walks the whole project below 3.60, and says so once', async () => {
    const { fake, source, warnings, time } = setup('3.59');
    fake.put('a', 'available');
    fake.put('x', 'available');
    const ts = [target('a', 'creating', time.t), target('b', 'creating', time.t)];
    const r = await source.poll(ts, {});
    await source.poll(ts, {});
    expect(fake.lists).toEqual([{}, {}]);
    expect(r.seen.get('a')?.status).toBe('available');
    expect([...r.gone]).toEqual(['b']);
    expect(warnings.filter((w) => w.includes('3.60'))).toHaveLength(1);
  });
});
