import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { GiB, type Rig, type RigCeph } from './rig.js';
import {
  capability,
  controllerPublish,
  createVolume,
  destroy,
  expandInUse,
  guestLines,
  guestUntil,
  leftovers,
  NOTHING,
  publish,
  readData,
  stage,
  stagedDevice,
  stageRequest,
  stagingPathOf,
  unpublish,
  unstage,
  writeData,
  type Cap,
  type Staged,
} from './steps.js';

const run = promisify(execFile);
const T = 600_000;
const EXT4: Cap = { kind: 'mount', fsType: 'ext4' };

/** The host's own Ceph client (the test's, not the plugin's): image features, watchers. */
async function hostRbd(ceph: RigCeph, args: string[]): Promise<string> {
  return (await run('rbd', [...args, ...ceph.hostArgs], { timeout: 60_000 })).stdout;
}

/** Another client holding a watch on the image (as a second node's mapping would). */
function holdWatch(ceph: RigCeph, image: string): { proc: ChildProcess; stop(): Promise<void> } {
  const proc = spawn('rbd', ['watch', `${ceph.pool}/${image}`, ...ceph.hostArgs], { stdio: ['pipe', 'ignore', 'ignore'] });
  return {
    proc,
    // rbd watch unwatches and exits on a line on stdin; a killed client's watch would linger 30 s.
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.stdin?.end('\n');
      }),
  };
}

async function watchers(ceph: RigCeph, image: string): Promise<unknown[]> {
  return (JSON.parse(await hostRbd(ceph, ['status', `${ceph.pool}/${image}`, '--format', 'json'])) as { watchers: unknown[] }).watchers;
}

/**
 * RBD scenarios on the same guest as the iSCSI ones: the node plugin maps real Cinder RBD volumes
 * (Cinder's RBD driver on the tier's single-node Ceph) with the guest's krbd, or rbd-nbd.
 */
export function rbdScenarios(s: { rig(): Rig; touched: Staged[]; enabled: boolean }): void {
  const its = it.skipIf(!s.enabled);

  const ceph = (): RigCeph => {
    const c = s.rig().ceph;
    if (!c) throw new Error('the tier runs without Ceph (CEPH=1 starts it)');
    return c;
  };
  const secrets = (): Record<string, string> => ({ userKey: ceph().key });

  async function createRbd(prefix: string, extra: Record<string, unknown> = {}, type = ceph().volumeType): Promise<string> {
    return createVolume(s.rig(), prefix, 1, { parameters: { type }, ...extra });
  }

  async function attachNew(prefix: string, cap: Cap, o: { mode?: string; type?: string; id?: string } = {}): Promise<Staged> {
    const rig = s.rig();
    const id = o.id ?? (await createRbd(prefix, {}, o.type));
    const publishContext = await controllerPublish(rig, id, cap, o.mode);
    const entry: Staged = { volumeId: id, cap, publishContext, stagingPath: stagingPathOf(id, cap), secrets: secrets(), ...(o.mode ? { mode: o.mode } : {}) };
    s.touched.push(entry);
    return Object.assign(entry, await stage(rig, id, cap, publishContext, { secrets: secrets(), ...(o.mode ? { mode: o.mode } : {}) }));
  }

  const restage = (st: Staged): Promise<Staged> =>
    stage(s.rig(), st.volumeId, st.cap, st.publishContext, { secrets: secrets(), ...(st.mode ? { mode: st.mode } : {}) });

  its.each<[string, Cap]>([
    ['ext4', EXT4],
    ['xfs', { kind: 'mount', fsType: 'xfs' }],
    ['raw block', { kind: 'block' }],
  ])('rbd lifecycle (%s): krbd maps the image, data intact after re-stage, nothing left', async (_n, cap) => {
    const rig = s.rig();
    let st = await attachNew(`r-${cap.kind}`, cap);
    await publish(rig, st);
    expect(await stagedDevice(rig, st)).toMatch(/^\/dev\/rbd\d+$/);
    const sum = await writeData(rig, st);
    await unpublish(rig, st);
    await unstage(rig, st);
    expect((await leftovers(rig)).rbd).toEqual([]);
    st = await restage(st);
    await publish(rig, st);
    expect(await readData(rig, st)).toBe(sum);
    await destroy(rig, st);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  its('rbd snapshot, restore into a larger volume, and clone: the data comes along, the restored file system is grown', async () => {
    const rig = s.rig();
    const src = await attachNew('r-snap-src', EXT4);
    await publish(rig, src);
    const sum = await writeData(rig, src);
    const snap = await rig.call<{ snapshot: { snapshot_id: string; ready_to_use: boolean } }>(rig.controller.controller, 'CreateSnapshot', {
      source_volume_id: src.volumeId,
      name: `r-snap-${src.volumeId.slice(0, 8)}`,
    });
    expect(snap.snapshot.ready_to_use).toBe(true);
    const restoredId = await createRbd('r-restored', {
      capacity_range: { required_bytes: String(2 * GiB) },
      volume_content_source: { snapshot: { snapshot_id: snap.snapshot.snapshot_id } },
    });
    const cloneId = await createRbd('r-clone', { volume_content_source: { volume: { volume_id: src.volumeId } } });
    const restored = await attachNew('', EXT4, { id: restoredId });
    const clone = await attachNew('', EXT4, { id: cloneId });
    for (const v of [restored, clone]) {
      const target = await publish(rig, v);
      expect(await readData(rig, v)).toBe(sum);
      if (v === restored) {
        const fsBytes = Number((await rig.guest.sh(`df -B1 --output=size '${target}' | tail -1`)).trim());
        expect(fsBytes).toBeGreaterThan(1.8 * GiB);
      }
    }
    await destroy(rig, clone);
    await destroy(rig, restored);
    await rig.call(rig.controller.controller, 'DeleteSnapshot', { snapshot_id: snap.snapshot.snapshot_id });
    await destroy(rig, src);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  its('rbd online expand: Cinder resizes the image in use, krbd sees the new size, ext4 grows; data intact', async () => {
    const rig = s.rig();
    const st = await attachNew('r-grow', EXT4);
    await publish(rig, st);
    const sum = await writeData(rig, st);
    await expandInUse(rig, st);
    expect(await readData(rig, st)).toBe(sum);
    await destroy(rig, st);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  its('rbd single writer: a map is refused while another client watches the image, and works once it is gone', async () => {
    const rig = s.rig();
    const id = await createRbd('r-watch');
    const ctx = await controllerPublish(rig, id, EXT4);
    s.touched.push({ volumeId: id, cap: EXT4, publishContext: ctx, stagingPath: stagingPathOf(id, EXT4), secrets: secrets() });
    const image = `volume-${id}`;
    const other = holdWatch(ceph(), image);
    try {
      await expect.poll(() => watchers(ceph(), image), { timeout: 30_000 }).toHaveLength(1);
      const refused = await rig.status(rig.node, 'NodeStageVolume', stageRequest(id, EXT4, ctx, { secrets: secrets() }));
      expect(refused.code).toBe(9);
      expect(refused.details).toContain('open by another client');
      expect((await leftovers(rig)).rbd).toEqual([]);
    } finally {
      await other.stop();
    }
    const st = await stage(rig, id, EXT4, ctx, { secrets: secrets() });
    await destroy(rig, st);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  its('rbd multi-attach: a raw block volume of a multiattach type maps while another client has it open', async () => {
    const rig = s.rig();
    const mode = 'MULTI_NODE_MULTI_WRITER';
    const id = await createRbd('r-multi', { volume_capabilities: [capability({ kind: 'block' }, mode)] }, ceph().multiattachType);
    const other = holdWatch(ceph(), `volume-${id}`);
    try {
      await expect.poll(() => watchers(ceph(), `volume-${id}`), { timeout: 30_000 }).toHaveLength(1);
      const st = await attachNew('', { kind: 'block' }, { id, mode });
      await publish(rig, st);
      const sum = await writeData(rig, st);
      expect(await readData(rig, st)).toBe(sum);
      expect(await watchers(ceph(), `volume-${id}`)).toHaveLength(2);
      await destroy(rig, st);
    } finally {
      await other.stop();
    }
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  its('rbd busy unmap: an open handle keeps the device busy; unstage retries, forces the unmap of the unmounted device and says so', async () => {
    const rig = s.rig();
    const st = await attachNew('r-busy', { kind: 'block' });
    await publish(rig, st);
    await writeData(rig, st);
    const device = await stagedDevice(rig, st);
    await unpublish(rig, st);
    // A process of a finished pod that still holds the device open.
    await rig.guest.sh(`setsid sleep 600 < ${device} > /dev/null 2>&1 & echo $! > /run/cmc-holder.pid`);
    try {
      await unstage(rig, st);
      expect(rig.guest.log('node')).toContain('unmap retried');
      expect(rig.guest.log('node')).toContain('forcing the unmap');
      expect((await leftovers(rig)).rbd).toEqual([]);
    } finally {
      await rig.guest.sh('kill "$(cat /run/cmc-holder.pid)" 2>/dev/null; rm -f /run/cmc-holder.pid; true');
    }
    await destroy(rig, st);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  its('rbd: kill -9 of the node plugin mid-map and mid-unmap converges; nothing left', async () => {
    const rig = s.rig();
    const id = await createRbd('r-kill');
    const ctx = await controllerPublish(rig, id, EXT4);
    s.touched.push({ volumeId: id, cap: EXT4, publishContext: ctx, stagingPath: stagingPathOf(id, EXT4), secrets: secrets() });
    const interrupted = stage(rig, id, EXT4, ctx, { secrets: secrets() }).catch((e: unknown) => e);
    await guestUntil(rig, 'pgrep -f "rbd device map" >/dev/null || ls /sys/bus/rbd/devices/0 >/dev/null 2>&1', 'the map of the stage', 120_000);
    await rig.stopNode('SIGKILL');
    expect(await interrupted).toBeInstanceOf(Error);
    await rig.startNode();
    const st = await stage(rig, id, EXT4, ctx, { secrets: secrets() });
    await publish(rig, st);
    const sum = await writeData(rig, st);
    await unpublish(rig, st);

    // Held open, the unmap retries for seconds: the kill lands in the middle of it.
    const mounted = (await guestLines(rig, `findmnt -n -o SOURCE --mountpoint '${st.stagingPath}'`))[0] ?? '';
    await rig.guest.sh(`setsid sleep 600 < ${mounted} > /dev/null 2>&1 & echo $! > /run/cmc-holder.pid`);
    const unstaging = unstage(rig, st).catch((e: unknown) => e);
    await guestUntil(rig, `grep -q 'unmap retried' /vmrun/logs/node.log 2>/dev/null || ! mountpoint -q '${st.stagingPath}'`, 'the unmap of the unstage', 60_000);
    await rig.stopNode('SIGKILL');
    await unstaging;
    await rig.guest.sh('kill "$(cat /run/cmc-holder.pid)" 2>/dev/null; rm -f /run/cmc-holder.pid; true');
    await rig.startNode();
    const again = await restage(st);
    await publish(rig, again);
    expect(await readData(rig, again)).toBe(sum);
    await unpublish(rig, again);
    await unstage(rig, again);
    await unstage(rig, again);
    await destroy(rig, again);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  its('rbd start-up sweep: a mapping this plugin made and no stage record names is unmapped before the plugin serves', async () => {
    const rig = s.rig();
    const forgotten = await attachNew('r-sweep', EXT4);
    const kept = await attachNew('r-sweep-kept', { kind: 'block' });
    await rig.stopNode('SIGKILL');
    await rig.guest.sh(`umount '${forgotten.stagingPath}' && rm "$(dirname '${forgotten.stagingPath}')/cinder-metal-csi.json"`);
    expect((await leftovers(rig)).rbd).toHaveLength(2);
    await rig.startNode();
    expect((await leftovers(rig)).rbd).toHaveLength(1);
    expect(rig.guest.log('node')).toContain('rbd mapping without a stage record removed');
    await destroy(rig, forgotten);
    await destroy(rig, kept);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);

  its('rbd-nbd fallback: an image with journaling (krbd refuses it) maps through rbd-nbd, recorded as such; nothing left', async () => {
    const rig = s.rig();
    const id = await createRbd('r-nbd');
    await hostRbd(ceph(), ['feature', 'enable', `${ceph().pool}/volume-${id}`, 'journaling']);
    const st = await attachNew('', EXT4, { id });
    await publish(rig, st);
    expect(await stagedDevice(rig, st)).toMatch(/^\/dev\/nbd\d+$/);
    const record = JSON.parse(await rig.guest.sh(`cat "$(dirname '${st.stagingPath}')/cinder-metal-csi.json"`)) as { mapper?: string };
    expect(record.mapper).toBe('nbd');
    const sum = await writeData(rig, st);
    expect(await readData(rig, st)).toBe(sum);
    await destroy(rig, st);
    expect(await leftovers(rig)).toEqual(NOTHING);
    // Every RBD stage of this boot had the key in its node-stage secret.
    expect(rig.guest.log('node')).toContain('"secrets":"[REDACTED]"');
    expect(rig.guest.log('node')).not.toContain(ceph().key);
  }, T);
}
