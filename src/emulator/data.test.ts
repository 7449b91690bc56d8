import { mkdtemp, open, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkedSparseCopy } from './files.js';
import { Cinder, emulator } from '../../test/helpers/emulator-http.js';
import type { RunningEmulator } from './types.js';

/** Restore and clone must carry the data of the local backend's files (the e2e tests check it through loop devices). */

let emu: RunningEmulator;
let cinder: Cinder;

beforeAll(async () => {
  ({ emu, cinder } = await emulator({ quotas: { volumes: 100 } }));
});
afterAll(() => emu.stop());

const path = (id: string): string => `${emu.stateDir}/volume-${id}`;

async function writeAt(file: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.write(data, 0, data.length, offset);
  } finally {
    await fh.close();
  }
}

async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, offset);
    return buf;
  } finally {
    await fh.close();
  }
}

describe('local backend data', () => {
  it('restores a snapshot’s data (as of the snapshot) into a new, larger volume', async () => {
    const vol = await cinder.volume();
    const head = Buffer.from('hello from before the snapshot');
    const tail = Buffer.alloc(4096, 0xab);
    await writeAt(path(vol), 0, head);
    await writeAt(path(vol), 512 * 1024 * 1024, tail);
    const snap = await cinder.snapshot(vol);
    // Written after the snapshot: must not show up in the restore.
    await writeAt(path(vol), 0, Buffer.from('CHANGED'));

    const r = await cinder.post('/volumes', { volume: { size: 2, snapshot_id: snap } });
    const restored = r.body.volume.id as string;
    await cinder.waitStatus('volumes', restored, 'available');
    expect(await readAt(path(restored), 0, head.length)).toEqual(head);
    expect(await readAt(path(restored), 512 * 1024 * 1024, tail.length)).toEqual(tail);
    const st = await stat(path(restored));
    expect(st.size).toBe(2 * 1024 ** 3);
    // Still sparse: the holes were not written out.
    expect(st.blocks * 512).toBeLessThan(64 * 1024 * 1024);
  });

  it('restores a backup’s data (as of the backup) into a new, larger volume, after its volume is gone', async () => {
    const vol = await cinder.volume();
    const head = Buffer.from('hello from before the backup');
    const tail = Buffer.alloc(4096, 0xcd);
    await writeAt(path(vol), 0, head);
    await writeAt(path(vol), 768 * 1024 * 1024, tail);
    const b = await cinder.post('/backups', { backup: { volume_id: vol, name: 'data' } });
    expect(b.status).toBe(202);
    const backup = b.body.backup.id as string;
    await cinder.waitStatus('backups', backup, 'available');
    await writeAt(path(vol), 0, Buffer.from('CHANGED'));
    expect((await cinder.del(`/volumes/${vol}`)).status).toBe(202);
    await cinder.waitGone('volumes', vol);

    const r = await cinder.post('/volumes', { volume: { size: 2, backup_id: backup } });
    expect(r.status).toBe(202);
    const restored = r.body.volume.id as string;
    await cinder.waitStatus('volumes', restored, 'available');
    expect(await readAt(path(restored), 0, head.length)).toEqual(head);
    expect(await readAt(path(restored), 768 * 1024 * 1024, tail.length)).toEqual(tail);
    expect((await stat(path(restored))).size).toBe(2 * 1024 ** 3);
    expect((await cinder.del(`/backups/${backup}`)).status).toBe(202);
    await cinder.waitGone('backups', backup);
  });

  it('clones a volume’s data', async () => {
    const src = await cinder.volume();
    const data = Buffer.from('clone me please');
    await writeAt(path(src), 1024 * 1024, data);
    const r = await cinder.post('/volumes', { volume: { source_volid: src } });
    expect(r.body.volume.source_volid).toBe(src);
    const clone = r.body.volume.id as string;
    await cinder.waitStatus('volumes', clone, 'available');
    expect(await readAt(path(clone), 1024 * 1024, data.length)).toEqual(data);
    // The copy is independent of its source.
    await writeAt(path(src), 1024 * 1024, Buffer.from('XXXXX'));
    expect(await readAt(path(clone), 1024 * 1024, data.length)).toEqual(data);
  });

  it('keeps the data when extending', async () => {
    const vol = await cinder.volume();
    await writeAt(path(vol), 100, Buffer.from('persist'));
    await cinder.post(`/volumes/${vol}/action`, { 'os-extend': { new_size: 2 } });
    await cinder.waitStatus('volumes', vol, 'available');
    expect((await readAt(path(vol), 100, 7)).toString()).toBe('persist');
    expect((await stat(path(vol))).size).toBe(2 * 1024 ** 3);
  });
});

describe('the copy used without cp', () => {
  it('copies data and keeps holes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emu-copy-'));
    try {
      const src = join(dir, 'src');
      await writeFile(src, '');
      await truncate(src, 64 * 1024 * 1024);
      await writeAt(src, 10 * 1024 * 1024 + 3, Buffer.from('middle'));
      await writeAt(src, 64 * 1024 * 1024 - 4, Buffer.from('tail'));
      const dst = join(dir, 'dst');
      await chunkedSparseCopy(src, dst);
      const st = await stat(dst);
      expect(st.size).toBe(64 * 1024 * 1024);
      expect(st.blocks * 512).toBeLessThanOrEqual(8 * 1024 * 1024 + 8192);
      expect((await readAt(dst, 10 * 1024 * 1024 + 3, 6)).toString()).toBe('middle');
      expect((await readAt(dst, 64 * 1024 * 1024 - 4, 4)).toString()).toBe('tail');
      expect((await readAt(dst, 0, 16)).equals(Buffer.alloc(16))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
