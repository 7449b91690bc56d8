import { describe, expect, it } from 'vitest';
import { aborted } from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';

describe('KeyedMutex', () => {
  it('runs same-key calls one after another and other keys in parallel', async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const slow = (tag: string, ms: number) => async () => {
      order.push(`start ${tag}`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`end ${tag}`);
      return tag;
    };
    const results = await Promise.all([m.run('a', slow('a1', 30)), m.run('a', slow('a2', 1)), m.run('b', slow('b1', 1))]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(order.indexOf('start a2')).toBeGreaterThan(order.indexOf('end a1'));
    expect(order.indexOf('end b1')).toBeLessThan(order.indexOf('end a1'));
    expect(m.size).toBe(0);
  });

  it('a queued call gives up with its abort error when its caller does; those behind it move up', async () => {
    const m = new KeyedMutex();
    const ac = new AbortController();
    let release!: () => void;
    const first = m.run('k', () => new Promise<void>((r) => (release = r)));
    const second = m.run('k', async () => 'ran', { signal: ac.signal, abortError: () => aborted('CreateVolume for "k" is already in progress') });
    const third = m.run('k', async () => 'third');
    ac.abort();
    await expect(second).rejects.toMatchObject({ kind: 'aborted', message: expect.stringContaining('already in progress') });
    release();
    await first;
    expect(await third).toBe('third');
    expect(await m.run('k', async () => 'again')).toBe('again');
    expect(m.size).toBe(0);
  });

  it('takes several keys in sorted order, and releases the first when a later one is abandoned', async () => {
    const m = new KeyedMutex();
    let release!: () => void;
    const holder = m.run('b', () => new Promise<void>((r) => (release = r)));
    const ac = new AbortController();
    const both = m.runAll(['b', 'a'], async () => 'both', { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 5));
    // 'a' is held by the waiter; a plain call on 'a' waits until the waiter gives up.
    const onA = m.run('a', async () => 'a');
    ac.abort();
    await expect(both).rejects.toThrow(/aborted/);
    expect(await onA).toBe('a');
    release();
    await holder;
    expect(m.size).toBe(0);
  });
});
