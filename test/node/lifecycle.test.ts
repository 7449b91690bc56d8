import { execa } from 'execa';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { machine } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { parseMountInfo } from '../../src/host/mountinfo.js';
import { parseNodeId, type StableNodeIdentity } from '../../src/services/node-id.js';
import { verifyRecord } from '../../src/services/node-registry/record.js';
import { STASH_FILE } from '../../src/services/node/stash.js';
import { blkidUuid, blockCap, haveCommand, mountCap, MIB, publishReq, stageReq, type Harness, type Volume } from './harness.js';
import { describeRoot, useHarness, warnIfNotRoot } from './setup.js';

warnIfNotRoot('node data path: lifecycle');

async function mountOf(path: string): Promise<{ fsType: string; options: string[]; superOptions: string[] } | undefined> {
  const m = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')).filter((x) => x.mountPoint === path).pop();
  return m ? { fsType: m.fsType, options: m.mountOptions, superOptions: m.superOptions } : undefined;
}

/** stage → publish → write → unpublish → unstage → stage again → the data is still there. */
async function roundTrip(h: Harness, fsType: string, size = 300 * MIB): Promise<void> {
  const v: Volume = await h.volume(size);
  const staging = await h.stagingPath(v);
  const target = await h.targetPath(v);
  const cap = mountCap(fsType);

  await h.call('NodeStageVolume', stageReq(v, staging, cap));
  expect((await mountOf(staging))?.fsType).toBe(fsType);
  const uuid = await blkidUuid(v.file);
  expect(uuid).not.toBe('');
  // Stage is idempotent: a second call changes nothing (no second mount, same file system).
  await h.call('NodeStageVolume', stageReq(v, staging, cap));
  expect((await h.leftovers()).mounts.filter((m) => m === staging)).toHaveLength(1);

  await h.call('NodePublishVolume', publishReq(v, staging, target, cap));
  await h.call('NodePublishVolume', publishReq(v, staging, target, cap)); // idempotent
  await writeFile(join(target, 'hello.txt'), `data of ${v.id}`);
  await h.call('NodeUnpublishVolume', { volume_id: v.id, target_path: target });
  await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  await h.call('NodeUnpublishVolume', { volume_id: v.id, target_path: target }); // idempotent
  await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
  expect(await h.leftovers()).toEqual({ mounts: [], loops: [] });
  await expect(stat(join(dirname(staging), STASH_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging }); // idempotent

  await h.call('NodeStageVolume', stageReq(v, staging, cap));
  expect(await blkidUuid(v.file)).toBe(uuid); // not reformatted
  const target2 = await h.targetPath(v);
  await h.call('NodePublishVolume', publishReq(v, staging, target2, cap));
  expect(await readFile(join(target2, 'hello.txt'), 'utf8')).toBe(`data of ${v.id}`);
  await h.call('NodeUnpublishVolume', { volume_id: v.id, target_path: target2 });
  await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
}

async function writeRaw(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(data, 0, data.length, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

describeRoot('node data path: lifecycle on real loop devices', () => {
  const harness = useHarness();
  let haveBtrfs = false;
  beforeAll(async () => {
    haveBtrfs = (await haveCommand('mkfs.btrfs')) && (await haveCommand('btrfs'));
    if (!haveBtrfs) console.warn('\n!!! btrfs tests SKIPPED: mkfs.btrfs/btrfs missing (apt-get install -y btrfs-progs) !!!\n');
  });

  it('ext4: data survives unstage and a second stage, which does not reformat', async () => {
    await roundTrip(harness.get(), 'ext4');
  });

  it('ext4 is the default when fs_type is empty', async () => {
    const h = harness.get();
    const v = await h.volume(64 * MIB);
    const staging = await h.stagingPath(v);
    await h.call('NodeStageVolume', stageReq(v, staging, mountCap('')));
    expect((await mountOf(staging))?.fsType).toBe('ext4');
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
  });

  it('xfs: round trip, mounted with nouuid', async () => {
    const h = harness.get();
    if (!(await haveCommand('mkfs.xfs'))) {
      console.warn('\n!!! xfs test SKIPPED: mkfs.xfs missing (apt-get install -y xfsprogs) !!!\n');
      return;
    }
    const v = await h.volume(400 * MIB);
    const staging = await h.stagingPath(v);
    await h.call('NodeStageVolume', stageReq(v, staging, mountCap('xfs')));
    expect((await mountOf(staging))?.superOptions).toContain('nouuid');
    // Made so that kernels before 5.10 (Ubuntu 20.04, RHEL 8) mount it too.
    const info = (await execa('xfs_info', [staging])).stdout;
    expect(info).toMatch(/bigtime=0/);
    expect(info).toMatch(/inobtcount=0/);
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
    await roundTrip(h, 'xfs', 400 * MIB);
  });

  it('btrfs: round trip', async (t) => {
    if (!haveBtrfs) t.skip();
    await roundTrip(harness.get(), 'btrfs', 300 * MIB);
  });

  it('the stash is 0600, next to the staging path, and records device, fs and access type', async () => {
    const h = harness.get();
    const v = await h.volume(64 * MIB);
    const staging = await h.stagingPath(v);
    await h.call('NodeStageVolume', stageReq(v, staging, mountCap('ext4', ['noatime'])));
    const path = join(dirname(staging), STASH_FILE);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const stash = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(stash).toMatchObject({ volumeId: v.id, accessType: 'mount', fsType: 'ext4', mountFlags: ['noatime'], stagingPath: staging });
    expect(String(stash.device)).toMatch(/^\/dev\/loop\d+$/);
    expect((await mountOf(staging))?.options).toContain('noatime');
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
  });

  it('a read-only publish rejects writes while the staging mount stays writable', async () => {
    const h = harness.get();
    const v = await h.volume(64 * MIB);
    const staging = await h.stagingPath(v);
    const target = await h.targetPath(v);
    const cap = mountCap('ext4');
    await h.call('NodeStageVolume', stageReq(v, staging, cap));
    await writeFile(join(staging, 'before.txt'), 'x');
    await h.call('NodePublishVolume', publishReq(v, staging, target, cap, { readonly: true }));
    expect((await mountOf(target))?.options).toContain('ro');
    await expect(writeFile(join(target, 'nope.txt'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
    expect(await readFile(join(target, 'before.txt'), 'utf8')).toBe('x');
    // The same target asked read-write is a different publish: ALREADY_EXISTS.
    await expect(h.call('NodePublishVolume', publishReq(v, staging, target, cap))).rejects.toMatchObject({ code: 6 });
    await h.call('NodeUnpublishVolume', { volume_id: v.id, target_path: target });
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
  });

  it('block: stage connects only, publish binds the device onto a file, raw bytes reach the volume', async () => {
    const h = harness.get();
    const v = await h.volume(32 * MIB);
    const staging = await h.stagingPath(v, 'block');
    const target = await h.targetPath(v, 'block');
    const cap = blockCap();
    await h.call('NodeStageVolume', stageReq(v, staging, cap));
    expect(await mountOf(staging)).toBeUndefined();
    expect((await h.leftovers()).loops).toHaveLength(1);
    await h.call('NodePublishVolume', publishReq(v, staging, target, cap));
    await h.call('NodePublishVolume', publishReq(v, staging, target, cap)); // idempotent
    expect((await stat(target)).isBlockDevice()).toBe(true);

    const payload = Buffer.from(`raw block bytes of ${v.id}`);
    const offset = 4 * MIB;
    const fh = await open(target, 'r+');
    await fh.write(payload, 0, payload.length, offset);
    await fh.sync();
    await fh.close();
    const back = Buffer.alloc(payload.length);
    const rh = await open(target, 'r');
    await rh.read(back, 0, back.length, offset);
    await rh.close();
    expect(back.equals(payload)).toBe(true);

    await h.call('NodeUnpublishVolume', { volume_id: v.id, target_path: target });
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
    expect(await h.leftovers()).toEqual({ mounts: [], loops: [] });
    // Flushed to the backing file: the bytes are there after the loop device is gone.
    const file = await open(v.file, 'r');
    const onDisk = Buffer.alloc(payload.length);
    await file.read(onDisk, 0, onDisk.length, offset);
    await file.close();
    expect(onDisk.equals(payload)).toBe(true);
  });

  it('block: a read-only publish rejects writes to the device', async () => {
    const h = harness.get();
    const v = await h.volume(16 * MIB);
    const staging = await h.stagingPath(v, 'block');
    const target = await h.targetPath(v, 'block');
    await h.call('NodeStageVolume', stageReq(v, staging, blockCap()));
    await h.call('NodePublishVolume', publishReq(v, staging, target, blockCap(), { readonly: true }));
    const err = await writeRaw(target, Buffer.from('must not land')).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(['EROFS', 'EPERM', 'EACCES']).toContain(err);
    // Idempotent, and the same target asked read-write is ALREADY_EXISTS.
    await h.call('NodePublishVolume', publishReq(v, staging, target, blockCap(), { readonly: true }));
    await expect(h.call('NodePublishVolume', publishReq(v, staging, target, blockCap()))).rejects.toMatchObject({ code: 6 });
    // A read-write publish of the same volume elsewhere still writes.
    const rwTarget = await h.targetPath(v, 'block');
    await h.call('NodePublishVolume', publishReq(v, staging, rwTarget, blockCap()));
    await writeRaw(rwTarget, Buffer.from('fine'));
    await h.call('NodeUnpublishVolume', { volume_id: v.id, target_path: rwTarget });
    await h.call('NodeUnpublishVolume', { volume_id: v.id, target_path: target });
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
  });

  it('spec errors: publish before stage, unstage/unpublish of nothing, restage with another capability', async () => {
    const h = harness.get();
    const v = await h.volume(64 * MIB);
    const staging = await h.stagingPath(v);
    const target = await h.targetPath(v);
    await expect(h.call('NodePublishVolume', publishReq(v, staging, target, mountCap()))).rejects.toMatchObject({ code: 9 });
    await expect(h.call('NodePublishVolume', publishReq(v, '', target, mountCap()))).rejects.toMatchObject({ code: 9 });
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
    await h.call('NodeUnpublishVolume', { volume_id: v.id, target_path: target });

    await h.call('NodeStageVolume', stageReq(v, staging, mountCap('ext4')));
    await expect(h.call('NodeStageVolume', stageReq(v, staging, mountCap('xfs')))).rejects.toMatchObject({ code: 6 });
    await expect(h.call('NodeStageVolume', stageReq(v, staging, mountCap('ext4', ['noatime'])))).rejects.toMatchObject({ code: 6 });
    await expect(h.call('NodeStageVolume', stageReq(v, staging, blockCap()))).rejects.toMatchObject({ code: 6 });
    // Publishing a mount-staged volume as block is refused.
    await expect(h.call('NodePublishVolume', publishReq(v, staging, target, blockCap()))).rejects.toMatchObject({ code: 9 });
    // Unstage while still published is refused; after unpublish it works.
    await h.call('NodePublishVolume', publishReq(v, staging, target, mountCap()));
    await expect(h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging })).rejects.toMatchObject({ code: 9 });
    await h.call('NodeUnpublishVolume', { volume_id: v.id, target_path: target });
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
  });

  it('missing fields are INVALID_ARGUMENT naming the field', async () => {
    const h = harness.get();
    const v = await h.volume(16 * MIB);
    const staging = await h.stagingPath(v);
    const target = await h.targetPath(v);
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['NodeStageVolume', stageReq(v, staging, mountCap(), { volume_id: '' }), /volume_id/],
      ['NodeStageVolume', stageReq(v, '', mountCap()), /staging_target_path/],
      ['NodeStageVolume', stageReq(v, staging, null as never), /volume_capability/],
      ['NodeStageVolume', stageReq(v, staging, mountCap(), { publish_context: {} }), /publish_context/],
      ['NodePublishVolume', publishReq(v, staging, '', mountCap()), /target_path/],
      ['NodePublishVolume', publishReq(v, staging, target, null as never), /volume_capability/],
      ['NodeUnstageVolume', { volume_id: v.id, staging_target_path: '' }, /staging_target_path/],
      ['NodeUnpublishVolume', { volume_id: '', target_path: target }, /volume_id/],
      ['NodeGetVolumeStats', { volume_id: v.id, volume_path: '', staging_target_path: '' }, /volume_path/],
      ['NodeExpandVolume', { volume_id: v.id, volume_path: '', staging_target_path: '', capacity_range: null, volume_capability: null, secrets: {} }, /volume_path/],
    ];
    for (const [method, req, field] of cases) {
      await expect(h.call(method, req), `${method} ${String(field)}`).rejects.toMatchObject({ code: 3, message: expect.stringMatching(field) });
    }
    expect(await h.leftovers()).toEqual({ mounts: [], loops: [] });
  });

  it('NodeGetInfo and NodeGetCapabilities', async () => {
    const h = harness.get();
    const info = await h.call<{ node_id: string }>('NodeGetInfo', {});
    expect(info.node_id).toBe(h.svc.nodeId);
    // Stable: the name and a key fingerprint; the address travels in the signed record.
    expect(info.node_id).toMatch(/^v2;test-node;[A-Za-z0-9_-]{32}$/);
    const node = parseNodeId(info.node_id);
    const record = verifyRecord((await h.registry.fetch('test-node')) ?? '', node as StableNodeIdentity);
    expect(record.facts).toMatchObject({ host: 'test-node', ip: '10.0.0.9', multipath: false, platform: machine() });
    // A restart keeps the id (same keys).
    expect((await h.newService()).nodeId).toBe(info.node_id);
    const caps = await h.call<{ capabilities: { rpc: { type: string } }[] }>('NodeGetCapabilities', {});
    expect(caps.capabilities.map((c) => c.rpc.type).sort()).toEqual(
      ['EXPAND_VOLUME', 'GET_VOLUME_STATS', 'SINGLE_NODE_MULTI_WRITER', 'STAGE_UNSTAGE_VOLUME', 'VOLUME_CONDITION'].sort(),
    );
  });
});
