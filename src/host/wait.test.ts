import { describe, expect, it } from 'vitest';

import { WaitTimeoutError, waitFor } from './wait.js';

describe('waitFor', () => {
  it('re-checks on each wake-up and returns the first value', async () => {
    let n = 0;
    let wake: (() => void) | undefined;
    const p = waitFor('three', async () => (++n >= 3 ? n : undefined), {
      timeoutMs: 2_000,
      pollMs: 60_000,
      watch: (w) => {
        wake = w;
        return () => (wake = undefined);
      },
    });
    await new Promise((r) => setTimeout(r, 10));
    wake?.();
    await new Promise((r) => setTimeout(r, 10));
    wake?.();
    expect(await p).toBe(3);
    expect(wake).toBeUndefined();
  });

  it('returns at once when the first check has a value', async () => {
    const t = Date.now();
    expect(await waitFor('x', () => Promise.resolve('here'), { timeoutMs: 1_000 })).toBe('here');
    expect(Date.now() - t).toBeLessThan(100);
  });

  it('fails after the bound with an error that names what it waited for', async () => {
    const t = Date.now();
    const err = await waitFor('the disk', () => Promise.resolve(undefined), { timeoutMs: 120 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).kind).toBe('timed-out');
    expect((err as Error).message).toBe('timed out after 120 ms waiting for the disk');
    expect(Date.now() - t).toBeGreaterThanOrEqual(110);
  });

  it('stops when the signal fires, with its reason', async () => {
    const ac = new AbortController();
    const reason = new Error('cancelled by the caller');
    setTimeout(() => ac.abort(reason), 30);
    await expect(waitFor('never', () => Promise.resolve(undefined), { timeoutMs: 5_000, signal: ac.signal })).rejects.toBe(reason);
  });

  it('passes a failing check on', async () => {
    await expect(waitFor('x', () => Promise.reject(new Error('boom')), { timeoutMs: 100 })).rejects.toThrow('boom');
  });
});
