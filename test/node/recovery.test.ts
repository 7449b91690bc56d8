import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { parseMountInfo } from '../../src/host/mountinfo.js';
import { STASH_FILE } from '../../src/services/node/stash.js';
import { CTX_SOURCE } from '../../src/services/controller/constants.js';
import { blkidUuid, loopsUnder, MIB, mountCap, publishReq, stageReq, type Harness, type Volume } from './harness.js';
import { describeRoot, useHarness, warnIfNotRoot } from './setup.js';

warnIfNotRoot('node data path: crash recovery and refusals');

async function mountsAt(path: string): Promise<number> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')).filter((m) => m.mountPoint === path).length;
}

async function attachByHand(v: Volume): Promise<string> {
  return (await execa('losetup', ['--find', '--show', v.file])).stdout.trim();
}

/** Stage converged: one mount of an ext4 at the staging path, a stash, data usable. */
async function assertStaged(h: Harness, v: Volume, staging: string): Promise<void> {
  expect(await mountsAt(staging)).toBe(1);
  expect((await stat(join(dirname(staging), STASH_FILE))).mode & 0o777).toBe(0o600);
  expect(await loopsUnder(dirname(v.file))).toHaveLength(1);
}

describeRoot('node data path: a stage retried after a crash converges', () => {
  const harness = useHarness();

  it('after "device connected only"', async () => {
    const h = harness.get();
    const v = await h.volume(64 * MIB);
    const staging = await h.stagingPath(v);
    const dev = await attachByHand(v);
    await h.call('NodeStageVolume', stageReq(v, staging, mountCap()));
    await assertStaged(h, v, staging);
    expect(await loopsUnder(dirname(v.file))).toEqual([dev]); // reused, not attached twice
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
  });

  it('after "connected and formatted": the file system is kept, not recreated', async () => {
    const h = harness.get();
    const v = await h.volume(64 * MIB);
    const staging = await h.stagingPath(v);
    const dev = await attachByHand(v);
    await execa('mkfs.ext4', ['-q', '-F', dev]);
    const uuid = await blkidUuid(dev);
    await h.call('NodeStageVolume', stageReq(v, staging, mountCap()));
    await assertStaged(h, v, staging);
    expect(await blkidUuid(v.file)).toBe(uuid);
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
  });

  it('after "mounted but no stash": no second mount, the stash is written, unstage then works', async () => {
    const h = harness.get();
    const v = await h.volume(64 * MIB);
    const staging = await h.stagingPath(v);
    const dev = await attachByHand(v);
    await execa('mkfs.ext4', ['-q', '-F', dev]);
    await execa('mount', ['-t', 'ext4', dev, staging]);
    await h.call('NodeStageVolume', stageReq(v, staging, mountCap()));
    await assertStaged(h, v, staging);
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
  });

  it('after a plugin restart, unstage works from the stash alone', async () => {
    const h = harness.get();
    const v = await h.volume(64 * MIB);
    const staging = await h.stagingPath(v);
    await h.call('NodeStageVolume', stageReq(v, staging, mountCap()));
    h.svc = await h.newService(); // same state dir: same key, no memory of the stage
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
    expect(await h.leftovers()).toEqual({ mounts: [], loops: [] });
  });

  it('a failed stage undoes what it did, but leaves a device that was connected before it', async () => {
    const h = harness.get();
    // Holds xfs while ext4 is asked: refused before mkfs or mount.
    const v = await h.volume(320 * MIB);
    const staging = await h.stagingPath(v);
    const dev = await attachByHand(v);
    await execa('mkfs.xfs', ['-q', dev]);
    await expect(h.call('NodeStageVolume', stageReq(v, staging, mountCap('ext4')))).rejects.toMatchObject({
      code: 9,
      message: expect.stringMatching(/xfs/),
    });
    expect(await loopsUnder(dirname(v.file))).toEqual([dev]); // not ours to disconnect
    await execa('losetup', ['-d', dev]);

    // Now the stage connects by itself, fails the same way, and disconnects again.
    await expect(h.call('NodeStageVolume', stageReq(v, staging, mountCap('ext4')))).rejects.toMatchObject({ code: 9 });
    expect(await h.leftovers()).toEqual({ mounts: [], loops: [] });
    await expect(stat(join(dirname(staging), STASH_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('never formats a blank volume made from a snapshot or a clone', async () => {
    const h = harness.get();
    const v = await h.volume(64 * MIB);
    const staging = await h.stagingPath(v);
    await expect(
      h.call('NodeStageVolume', stageReq(v, staging, mountCap(), { volume_context: { [CTX_SOURCE]: 'snapshot' } })),
    ).rejects.toMatchObject({ code: 9, message: expect.stringMatching(/refusing to format/) });
    expect(await blkidUuid(v.file)).toBe('');
    expect(await h.leftovers()).toEqual({ mounts: [], loops: [] });
  });

  it('refuses a device whose identity does not carry the volume id (never formats or mounts it)', async () => {
    const h = harness.get();
    const v = await h.volume(64 * MIB, { fileName: 'someone-else.img' });
    const staging = await h.stagingPath(v);
    await expect(h.call('NodeStageVolume', stageReq(v, staging, mountCap()))).rejects.toMatchObject({
      code: 9,
      message: expect.stringMatching(/does not carry the volume id/),
    });
    expect(await blkidUuid(v.file)).toBe('');
    expect(await h.leftovers()).toEqual({ mounts: [], loops: [] });
  });

  it('the publish_context of another volume is refused (identity)', async () => {
    const h = harness.get();
    const a = await h.volume(16 * MIB);
    const b = await h.volume(16 * MIB);
    const staging = await h.stagingPath(a);
    // a's id with b's context: b's file does not carry a's id.
    await expect(h.call('NodeStageVolume', stageReq({ ...a, publishContext: b.publishContext }, staging, mountCap()))).rejects.toMatchObject({ code: 9 });
    expect(await h.leftovers()).toEqual({ mounts: [], loops: [] });
  });
});

describeRoot('node data path: paths from requests stay under the kubelet root', () => {
  const harness = useHarness();

  it('rejects traversal and symlink escapes with INVALID_ARGUMENT and touches nothing outside', async () => {
    const h = harness.get();
    const v = await h.volume(16 * MIB);
    const outside = join(h.base, 'outside');
    await mkdir(outside);
    const link = join(h.kubelet, 'pods', 'evil');
    await mkdir(dirname(link), { recursive: true });
    await execa('ln', ['-s', outside, link]);
    const staging = await h.stagingPath(v);

    const bad = [`${h.kubelet}/pods/../../outside/globalmount`, `${link}/globalmount`, `${outside}/globalmount`, 'relative/globalmount'];
    for (const p of bad) {
      await expect(h.call('NodeStageVolume', stageReq(v, p, mountCap())), p).rejects.toMatchObject({ code: 3 });
      await expect(h.call('NodePublishVolume', publishReq(v, staging, p, mountCap())), p).rejects.toMatchObject({ code: 3 });
      await expect(h.call('NodeUnpublishVolume', { volume_id: v.id, target_path: p }), p).rejects.toMatchObject({ code: 3 });
      await expect(h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: p }), p).rejects.toMatchObject({ code: 3 });
    }
    await expect(stat(join(outside, 'globalmount'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await h.leftovers()).toEqual({ mounts: [], loops: [] });
  });

  it('a symlink swapped in for a staged target cannot redirect unpublish', async () => {
    const h = harness.get();
    const v = await h.volume(64 * MIB);
    const staging = await h.stagingPath(v);
    const target = await h.targetPath(v);
    await h.call('NodeStageVolume', stageReq(v, staging, mountCap()));
    await h.call('NodePublishVolume', publishReq(v, staging, target, mountCap()));
    // Move the published directory away and plant a symlink out of the root in its place.
    const moved = `${target}-moved`;
    await execa('umount', [target]);
    await rename(target, moved);
    const outside = join(h.base, 'victim');
    await mkdir(outside);
    await execa('ln', ['-s', outside, target]);
    await expect(h.call('NodeUnpublishVolume', { volume_id: v.id, target_path: target })).rejects.toMatchObject({ code: 3 });
    expect((await stat(outside)).isDirectory()).toBe(true);
    await h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging });
  });
});
