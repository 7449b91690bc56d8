import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_NAME, startRig, type Rig } from './rig.js';
import {
  controllerPublish,
  createVolume,
  destroy,
  expandInUse,
  guestLines,
  guestUntil,
  leftovers,
  losePortal,
  nodeIdOf,
  multipathPathStates,
  NOTHING,
  publish,
  readData,
  restorePortals,
  stage,
  stagedDevice,
  stagingPathOf,
  unpublish,
  unstage,
  writeData,
  type Cap,
  type Staged,
} from './steps.js';
import { rbdScenarios } from './rbd-scenarios.js';
import { kernelTierOrNote } from './tier.js';

const tier = kernelTierOrNote();
const T = 600_000;
const EXT4: Cap = { kind: 'mount', fsType: 'ext4' };

/**
 * The node plugin inside a QEMU guest running Debian's kernel, the controller on the host against
 * the real Cinder, tgtd exporting every volume on two portals with CHAP. The scenarios share one
 * guest and run in order; the reboot comes last. Every scenario ends with nothing left behind.
 */
describe.skipIf(!tier)('real kernel: the node plugin in a QEMU guest attaches real Cinder volumes over iSCSI and RBD', () => {
  let rig: Rig;
  let port2 = 0;
  beforeAll(async () => {
    if (!tier) return;
    port2 = Number(tier.cinder.opt('ISCSI_PORTAL2')?.split(':').at(-1));
    rig = await startRig(tier);
    await rig.startNode();
  }, T);
  afterAll(async () => {
    await rig?.stop();
  }, T);

  // A failed scenario must not fail the next ones: what it left is taken down here.
  const touched: Staged[] = [];
  afterEach(async (ctx) => {
    const list = touched.splice(0);
    if (ctx.task.result?.state !== 'fail' || !rig) return;
    await restorePortals(rig).catch(() => undefined);
    for (const s of list) await destroy(rig, s).catch(() => undefined);
  }, T);

  async function attachNew(prefix: string, cap: Cap): Promise<Staged> {
    const id = await createVolume(rig, prefix);
    const publishContext = await controllerPublish(rig, id, cap);
    const entry: Staged = { volumeId: id, cap, publishContext, stagingPath: stagingPathOf(id, cap) };
    touched.push(entry);
    // The scenario's own object, so the clean-up also sees where it was published.
    return Object.assign(entry, await stage(rig, id, cap, publishContext));
  }

  it.each<[string, Cap]>([
    ['ext4', EXT4],
    ['xfs', { kind: 'mount', fsType: 'xfs' }],
    ['raw block', { kind: 'block' }],
  ])('lifecycle (%s) over two portals: one dm-multipath map, data intact after re-stage, nothing left', async (_n, cap) => {
    let s = await attachNew(`k-${cap.kind}`, cap);
    await publish(rig, s);
    expect(await stagedDevice(rig, s)).toMatch(/^\/dev\/(dm-\d+|mapper\/.+)$/);
    expect(await multipathPathStates(rig)).toEqual(['A', 'A']);
    const sum = await writeData(rig, s);
    await unpublish(rig, s);
    await unstage(rig, s);
    const between = await leftovers(rig);
    expect({ sessions: between.sessions, disks: between.disks, maps: between.maps }).toEqual({ sessions: [], disks: [], maps: [] });
    s = await stage(rig, s.volumeId, cap, s.publishContext);
    await publish(rig, s);
    expect(await readData(rig, s)).toBe(sum);
    await destroy(rig, s);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  it('two volumes at once: unstaging one leaves the other its disks, sessions and data', async () => {
    const a = await attachNew('k-two-a', EXT4);
    const b = await attachNew('k-two-b', { kind: 'block' });
    await publish(rig, a);
    await publish(rig, b);
    const sumA = await writeData(rig, a);
    const sumB = await writeData(rig, b);
    const devB = await stagedDevice(rig, b);
    const sessionsBefore = (await leftovers(rig)).sessions;
    expect(sessionsBefore).toHaveLength(4);

    await unpublish(rig, a);
    await unstage(rig, a);
    const after = await leftovers(rig);
    expect(after.sessions).toHaveLength(2);
    expect(after.sessions.every((l) => sessionsBefore.includes(l))).toBe(true);
    expect(after.disks).toHaveLength(2);
    expect(await stagedDevice(rig, b)).toBe(devB);
    expect(await readData(rig, b)).toBe(sumB);

    const a2 = await stage(rig, a.volumeId, EXT4, a.publishContext);
    await publish(rig, a2);
    expect(await readData(rig, a2)).toBe(sumA);
    await destroy(rig, a2);
    await destroy(rig, b);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  it('online expand: Cinder grows the volume in use, the node rescans both paths, resizes the map and grows ext4; data intact', async () => {
    const s = await attachNew('k-grow', EXT4);
    await publish(rig, s);
    const sum = await writeData(rig, s);
    await expandInUse(rig, s);
    expect(await readData(rig, s)).toBe(sum);
    await destroy(rig, s);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  it('multipath, one portal unreachable at stage: the volume stages on the other path, the lost one is cleaned up', async () => {
    await losePortal(rig, port2);
    try {
      const s = await attachNew('k-mp-down', EXT4);
      await publish(rig, s);
      const sum = await writeData(rig, s);
      expect(await readData(rig, s)).toBe(sum);
      // The other path gives up in the background (iscsid's login retries), then its record goes.
      await guestUntil(rig, `[ "$(iscsiadm -m session 2>/dev/null | wc -l)" = 1 ] && ! ls /etc/iscsi/nodes/*/*${port2}* >/dev/null 2>&1`, 'the unreachable path to be given up', 180_000);
      expect(await multipathPathStates(rig)).toEqual(['A']);
      await destroy(rig, s);
    } finally {
      await restorePortals(rig);
    }
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  it('multipath, a path lost while mounted: writes go on over the other path; unstage with the path still dead leaves nothing', async () => {
    const s = await attachNew('k-mp-loss', EXT4);
    await publish(rig, s);
    expect(await multipathPathStates(rig)).toEqual(['A', 'A']);
    await losePortal(rig, port2);
    try {
      // iscsid notices the silence (nop-out timeouts), the session's I/O fails after
      // replacement_timeout, and dm-multipath retries it on the other path.
      const sum = await writeData(rig, s, 4);
      await guestUntil(rig, `dmsetup status --target multipath | grep -q ' F '`, 'the lost path to be marked failed', 120_000);
      expect(await readData(rig, s, 4)).toBe(sum);
      await unpublish(rig, s);
      await unstage(rig, s);
    } finally {
      await restorePortals(rig);
    }
    const left = await leftovers(rig);
    expect({ sessions: left.sessions, disks: left.disks, maps: left.maps, mounts: left.mounts }).toEqual({ sessions: [], disks: [], maps: [], mounts: [] });
    await destroy(rig, s);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  it('a node without multipathd says so and stages over one path', async () => {
    await rig.stopNode();
    await rig.guest.sh('kill "$(cat /run/cmc-multipathd.pid)"; for i in $(seq 100); do multipathd show status >/dev/null 2>&1 || exit 0; sleep 0.1; done; exit 1');
    try {
      await rig.startNode();
      const s = await attachNew('k-nomp', EXT4);
      await publish(rig, s);
      expect(await stagedDevice(rig, s)).toMatch(/^\/dev\/sd[a-z]+$/);
      expect((await leftovers(rig)).sessions).toHaveLength(1);
      const sum = await writeData(rig, s);
      expect(await readData(rig, s)).toBe(sum);
      await destroy(rig, s);
      expect(await leftovers(rig)).toEqual(NOTHING);
    } finally {
      await rig.stopNode();
      await rig.guest.sh('multipathd -d -s >> /vmrun/logs/multipathd.log 2>&1 & echo $! > /run/cmc-multipathd.pid; for i in $(seq 100); do multipathd show status >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1');
      await rig.startNode();
    }
  }, T);

  it('kill -9 of the node plugin mid-stage and mid-unstage: the retry converges, nothing left', async () => {
    const id = await createVolume(rig, 'k-kill');
    const ctx = await controllerPublish(rig, id, EXT4);
    touched.push({ volumeId: id, cap: EXT4, publishContext: ctx, stagingPath: stagingPathOf(id, EXT4) });
    const interrupted = stage(rig, id, EXT4, ctx).catch((e: unknown) => e);
    await guestUntil(rig, 'iscsiadm -m session >/dev/null 2>&1', 'a session of the stage', 120_000);
    await rig.stopNode('SIGKILL');
    expect(await interrupted).toBeInstanceOf(Error);
    await rig.startNode();
    const s = await stage(rig, id, EXT4, ctx);
    await publish(rig, s);
    const sum = await writeData(rig, s);
    await unpublish(rig, s);

    const unstaging = unstage(rig, s).catch((e: unknown) => e);
    await guestUntil(rig, `! mountpoint -q '${s.stagingPath}'`, 'the unmount of the unstage', 60_000);
    await rig.stopNode('SIGKILL');
    await unstaging;
    await rig.startNode();
    // Whatever the kill left, stage again must find the same data, and unstage must finish.
    const again = await stage(rig, id, EXT4, ctx);
    await publish(rig, again);
    expect(await readData(rig, again)).toBe(sum);
    await unpublish(rig, again);
    await unstage(rig, again);
    await unstage(rig, again);
    await destroy(rig, again);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  it('start-up sweep: a session no stage record names (kubelet forgot the volume) is removed before the plugin serves', async () => {
    const s = await attachNew('k-sweep', EXT4);
    const kept = await attachNew('k-sweep-kept', { kind: 'block' });
    await rig.stopNode('SIGKILL');
    // What a forgotten volume looks like: not mounted, no record; its sessions still logged in.
    await rig.guest.sh(`umount '${s.stagingPath}' && rm "$(dirname '${s.stagingPath}')/cinder-metal-csi.json"`);
    expect((await leftovers(rig)).sessions).toHaveLength(4);
    await rig.startNode();
    const left = await leftovers(rig);
    expect(left.sessions).toHaveLength(2);
    expect(left.sessions.every((l) => l.includes(kept.volumeId))).toBe(true);
    expect(left.records.some((r) => r.endsWith(s.volumeId))).toBe(false);
    expect(left.disks).toHaveLength(2);
    expect(rig.guest.log('node')).toContain('iscsi session without a stage record removed');
    await destroy(rig, s);
    await destroy(rig, kept);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  it('a new initiator name while a volume is in use: the id stays, the live attachment and its data stay, new volumes use the new name', async () => {
    const live = await attachNew('k-iqn-live', EXT4);
    await publish(rig, live);
    const sum = await writeData(rig, live);
    const idBefore = await nodeIdOf(rig, true);
    const newIqn = `iqn.2004-10.org.example:kernel-node-renamed-${Date.now().toString(36)}`;
    // What the user guide asks of a cloned node: a fresh InitiatorName, then iscsid and the plugin restarted.
    await rig.stopNode();
    await rig.guest.sh(
      `echo 'InitiatorName=${newIqn}' > /etc/iscsi/initiatorname.iscsi && pkill -x iscsid; for i in $(seq 50); do pgrep -x iscsid >/dev/null || break; sleep 0.1; done; iscsid`,
    );
    await rig.startNode();
    expect(await nodeIdOf(rig, true)).toBe(idBefore);
    await expect.poll(() => readFile(join(rig.share, 'registry', `${NODE_NAME}.json`), 'utf8').catch(() => ''), { timeout: 30_000 }).toContain(newIqn);

    // The attacher publishes again (a resync): the live attachment is kept, not torn down.
    const again = await controllerPublish(rig, live.volumeId, EXT4);
    expect(again.attachmentId).toBe(live.publishContext.attachmentId);
    expect(await readData(rig, live)).toBe(sum);
    expect((await leftovers(rig)).sessions).toHaveLength(2);

    // A new volume is exported to the new name, and its login uses it.
    const fresh = await attachNew('k-iqn-new', EXT4);
    await publish(rig, fresh);
    const freshSum = await writeData(rig, fresh);
    expect(await readData(rig, fresh)).toBe(freshSum);
    expect(await rig.guest.sh(`cat /sys/class/iscsi_session/session*/initiatorname | sort -u`)).toContain(newIqn);
    await destroy(rig, fresh);
    await destroy(rig, live);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  // RBD in the same boot, before the reboot (which must come last).
  rbdScenarios({ rig: () => rig, touched, enabled: !!tier?.cinder.opt('CINDER_CEPH_ENV') });

  it('a reboot with a volume staged: a stale unstage never touches the volume staged after the reboot', async () => {
    const a = await attachNew('k-boot-a', EXT4);
    await publish(rig, a);
    await writeData(rig, a);
    const deviceOfA = await stagedDevice(rig, a);

    await rig.guest.reboot();
    await rig.startNode();
    expect((await leftovers(rig)).sessions).toEqual([]);

    // kubelet brings running pods back first: B is staged and may take A's old kernel names.
    const b = await attachNew('k-boot-b', EXT4);
    await publish(rig, b);
    const sumB = await writeData(rig, b);
    const deviceOfB = await stagedDevice(rig, b);
    const recordsAfterReboot = await guestLines(rig, 'ls /etc/iscsi/nodes');
    expect(recordsAfterReboot.some((r) => r.endsWith(a.volumeId))).toBe(true);

    // Then it unstages A, whose pod is gone; its record still names deviceOfA.
    await unpublish(rig, a);
    await unstage(rig, a);
    expect(await stagedDevice(rig, b)).toBe(deviceOfB);
    expect(await readData(rig, b)).toBe(sumB);
    const left = await leftovers(rig);
    expect(left.sessions).toHaveLength(2);
    expect(left.records.some((r) => r.endsWith(a.volumeId))).toBe(false);
    expect(left.records.some((r) => r.endsWith(b.volumeId))).toBe(true);
    expect(deviceOfA).toMatch(/^\/dev\//);

    await destroy(rig, a);
    await destroy(rig, b);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);
});
