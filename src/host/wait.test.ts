import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Code } from '../util/errors.js';
import { WaitTimeoutError, waitFor, waitForPath, waitForPathGone } from './wait.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cmc-wait-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('waitForPath', () => {
  it('returns at once when the path exists', async () => {
    await writeFile(join(dir, 'x'), '');
    const t = Date.now();
    await waitForPath(join(dir, 'x'), { timeoutMs: 1_000 });
    expect(Date.now() - t).toBeLessThan(100);
  });

  it('is woken by the watch, not by polling: a symlink made after 50 ms is seen long before the poll', async () => {
    const target = join(dir, 'sdz');
    await writeFile(target, '');
    const link = join(dir, 'ip-10.0.0.1:3260-iscsi-iqn.x-lun-1');
    setTimeout(() => void symlink(target, link), 50);
    const t = Date.now();
    await waitForPath(link, { timeoutMs: 5_000, pollMs: 60_000 });
    const elapsed = Date.now() - t;
    expect(elapsed).toBeGreaterThanOrEqual(40);
    expect(elapsed).toBeLessThan(1_000);
  });

  it('copes with a parent directory that does not exist yet (like /dev/disk/by-path before the first disk)', async () => {
    const path = join(dir, 'by-path', 'dev');
    setTimeout(() => void mkdir(join(dir, 'by-path')).then(() => writeFile(path, '')), 30);
    await waitForPath(path, { timeoutMs: 3_000, pollMs: 50 });
  });

  it('fails after the bound with an error that names the path', async () => {
    const path = join(dir, 'never');
    const t = Date.now();
    const err = await waitForPath(path, { timeoutMs: 120 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).code).toBe(Code.DEADLINE_EXCEEDED);
    expect((err as Error).message).toBe(`timed out after 120 ms waiting for ${path}`);
    expect(Date.now() - t).toBeGreaterThanOrEqual(110);
  });

  it('stops when the signal fires, with its reason', async () => {
    const ac = new AbortController();
    const reason = new Error('cancelled by the caller');
    setTimeout(() => ac.abort(reason), 30);
    await expect(waitForPath(join(dir, 'never'), { timeoutMs: 5_000, signal: ac.signal })).rejects.toBe(reason);
  });

  it('waitForPathGone waits until the path disappears', async () => {
    const p = join(dir, 'gone');
    await writeFile(p, '');
    setTimeout(() => void unlink(p), 40);
    await waitForPathGone(p, { timeoutMs: 2_000, pollMs: 60_000 });
  });
});

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

  it('passes a failing check on', async () => {
    await expect(waitFor('x', () => Promise.reject(new Error('boom')), { timeoutMs: 100 })).rejects.toThrow('boom');
  });
});
