import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findLeftovers } from '../../src/demo/leftovers.js';
import { call, cinderList, GiB, isRoot, loopsUnder, mountCap, mountCount, uniqueName } from '../conformance/harness.js';
import { rpcStatus } from '../helpers/csi-client.js';
import { waitUntil } from '../helpers/spawn-driver.js';
import { run, startRig, type CrashRig } from './harness.js';

/**
 * Crash safety: the driver process is SIGKILLed at chosen points, restarted with the same flags
 * and state, and the caller retries the interrupted RPC as the sidecars / kubelet would. The
 * system must converge: no duplicate Cinder volume, no leaked or half-made attachment, no stray
 * mount or loop device, and data written before the crash survives.
 */

const cap = mountCap('ext4');

describe.skipIf(!isRoot)('crash safety (SIGKILL + restart + retry)', () => {
  let rig: CrashRig | undefined;
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  const leftovers = (r: CrashRig) => findLeftovers({ dir: r.dir, kubeletDir: r.kubeletDir, emulator: r.emulator });
  const paths = (r: CrashRig, id: string) => ({
    staging: join(r.kubeletDir, 'plugins', 'kubernetes.io', 'csi', 'cinder.metal.csi.kungze.io', id, 'globalmount'),
    target: join(r.kubeletDir, 'pods', 'pod-1', 'volumes', 'kubernetes.io~csi', id, 'mount'),
  });

  /** Creates a volume and publishes it to the node; returns its id and publish context. */
  async function publishedVolume(r: CrashRig): Promise<{ id: string; context: Record<string, string> }> {
    const vol = await call(r.clients.controller, 'CreateVolume', { name: uniqueName('crash'), capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [cap] });
    const id = vol.volume.volume_id as string;
    const pub = await call(r.clients.controller, 'ControllerPublishVolume', { volume_id: id, node_id: r.nodeId, volume_capability: cap });
    return { id, context: pub.publish_context };
  }

  async function teardown(r: CrashRig, id: string): Promise<void> {
    const p = paths(r, id);
    await call(r.clients.node, 'NodeUnpublishVolume', { volume_id: id, target_path: p.target });
    await call(r.clients.node, 'NodeUnstageVolume', { volume_id: id, staging_target_path: p.staging });
    await call(r.clients.controller, 'ControllerUnpublishVolume', { volume_id: id, node_id: r.nodeId });
    await call(r.clients.controller, 'DeleteVolume', { volume_id: id });
  }

  it('(a) killed while CreateVolume waits for Cinder: the retry finds the volume, exactly one exists', async () => {
    rig = await startRig({ delayMs: 1500 });
    const r = rig;
    const name = uniqueName('crash-create');
    const inflight = rpcStatus(r.clients.controller, 'CreateVolume', { name, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [cap] }, 30_000);
    await waitUntil(() => (r.emulator.stats().requests['POST /volumes'] ?? 0) >= 1, 'CreateVolume to reach Cinder');
    // Cinder has the volume in "creating" (1.5 s): the driver is waiting for it to become available.
    expect((await cinderList(r, 'volumes')).filter((v) => v.name === name).map((v) => v.status)).toEqual(['creating']);
    await r.kill();
    expect((await inflight).code).not.toBe(0);
    await r.restart();
    const res = await call(r.clients.controller, 'CreateVolume', { name, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [cap] });
    const named = (await cinderList(r, 'volumes')).filter((v) => v.name === name);
    expect(named.map((v) => v.id)).toEqual([res.volume.volume_id]);
    expect(named[0].status).toBe('available');
    expect(r.emulator.stats().requests['POST /volumes']).toBe(1);
    await call(r.clients.controller, 'DeleteVolume', { volume_id: res.volume.volume_id });
    expect(await leftovers(r)).toEqual([]);
  });

  it('(b) killed between attachment create and complete: the retried publish leaves one complete attachment', async () => {
    rig = await startRig();
    const r = rig;
    const vol = await call(r.clients.controller, 'CreateVolume', { name: uniqueName('crash-attach'), capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [cap] });
    const id = vol.volume.volume_id as string;
    r.emulator.resetStats();
    r.emulator.setFaults({ routes: { 'POST /attachments/{id}/action': { hang: 1 } } });
    const req = { volume_id: id, node_id: r.nodeId, volume_capability: cap };
    const inflight = rpcStatus(r.clients.controller, 'ControllerPublishVolume', req, 30_000);
    await waitUntil(() => (r.emulator.stats().requests['POST /attachments/{id}/action'] ?? 0) >= 1, 'the attachment completion to hang in Cinder');
    expect(r.emulator.stats().requests['POST /attachments']).toBe(1);
    const half = (await cinderList(r, 'attachments')).filter((a) => a.volume_id === id);
    expect(half).toHaveLength(1);
    expect(half[0].status).not.toBe('attached');
    await r.kill();
    expect((await inflight).code).not.toBe(0);
    await r.restart();
    const pub = await call(r.clients.controller, 'ControllerPublishVolume', req);
    const atts = (await cinderList(r, 'attachments')).filter((a) => a.volume_id === id);
    expect(atts).toHaveLength(1);
    expect(atts[0].status).toBe('attached');
    expect(((await cinderList(r, 'volumes')).find((v) => v.id === id)).status).toBe('in-use');
    // The node can use what the retry handed out.
    const p = paths(r, id);
    await mkdir(p.staging, { recursive: true });
    await call(r.clients.node, 'NodeStageVolume', { volume_id: id, staging_target_path: p.staging, volume_capability: cap, publish_context: pub.publish_context });
    await call(r.clients.node, 'NodePublishVolume', { volume_id: id, staging_target_path: p.staging, target_path: p.target, volume_capability: cap, publish_context: pub.publish_context });
    await teardown(r, id);
    expect(await leftovers(r)).toEqual([]);
  });

  it('(c) killed between mkfs and mount: the retried NodeStage mounts the existing file system, no reformat', async () => {
    // The window between mkfs finishing and the mount starting is a few milliseconds of the
    // driver's own code, too short to hit reliably with a timed SIGKILL. So the host state a kill
    // there leaves is prepared honestly instead: a real stage formats the device and data is
    // written; then the driver is SIGKILLed and its mounts are removed by hand, leaving exactly
    // "loop device attached + file system on it + nothing mounted" (plus whatever record the
    // driver keeps). A restarted driver must mount that file system (same UUID, data intact),
    // not format it again, and must not attach a second loop device.
    rig = await startRig();
    const r = rig;
    const { id, context } = await publishedVolume(r);
    const p = paths(r, id);
    await mkdir(p.staging, { recursive: true });
    const base = { volume_id: id, volume_capability: cap, publish_context: context };
    await call(r.clients.node, 'NodeStageVolume', { ...base, staging_target_path: p.staging });
    await call(r.clients.node, 'NodePublishVolume', { ...base, staging_target_path: p.staging, target_path: p.target });
    const payload = randomBytes(64 * 1024);
    await writeFile(join(p.target, 'before-crash.bin'), payload);
    const [loop] = await loopsUnder(r.dir);
    expect(loop).toBeDefined();
    const uuid = (await run('blkid', ['-s', 'UUID', '-o', 'value', loop!])).stdout.trim();
    expect(uuid).not.toBe('');

    await r.kill();
    await run('umount', [p.target]);
    await run('umount', [p.staging]);
    expect(await mountCount(p.staging)).toBe(0);
    expect(await loopsUnder(r.dir)).toEqual([loop]);

    await r.restart();
    await call(r.clients.node, 'NodeStageVolume', { ...base, staging_target_path: p.staging });
    expect(await mountCount(p.staging)).toBe(1);
    expect(await loopsUnder(r.dir)).toHaveLength(1);
    const loopNow = (await loopsUnder(r.dir))[0]!;
    expect((await run('blkid', ['-s', 'UUID', '-o', 'value', loopNow])).stdout.trim()).toBe(uuid);
    await call(r.clients.node, 'NodePublishVolume', { ...base, staging_target_path: p.staging, target_path: p.target });
    expect(await readFile(join(p.target, 'before-crash.bin'))).toEqual(payload);
    await teardown(r, id);
    expect(await leftovers(r)).toEqual([]);
  });

  it('(d) killed during NodeUnstage after the unmount, before the device is released: the retry releases it', async () => {
    // Like (c), the point between "staging unmounted" and "loop device detached" is prepared:
    // stage for real, SIGKILL the driver, unmount the staging path by hand (the first half of an
    // unstage). The loop device is still attached. The retried NodeUnstage must detach it and
    // clear the record; then unpublish and delete leave nothing behind.
    rig = await startRig();
    const r = rig;
    const { id, context } = await publishedVolume(r);
    const p = paths(r, id);
    await mkdir(p.staging, { recursive: true });
    await call(r.clients.node, 'NodeStageVolume', { volume_id: id, volume_capability: cap, publish_context: context, staging_target_path: p.staging });
    expect(await loopsUnder(r.dir)).toHaveLength(1);

    await r.kill();
    await run('umount', [p.staging]);
    expect(await mountCount(p.staging)).toBe(0);
    expect(await loopsUnder(r.dir)).toHaveLength(1);

    await r.restart();
    for (let i = 0; i < 3; i++) await call(r.clients.node, 'NodeUnstageVolume', { volume_id: id, staging_target_path: p.staging });
    expect(await loopsUnder(r.dir)).toEqual([]);
    expect(await mountCount(p.staging)).toBe(0);
    await call(r.clients.controller, 'ControllerUnpublishVolume', { volume_id: id, node_id: r.nodeId });
    await call(r.clients.controller, 'DeleteVolume', { volume_id: id });
    expect(await leftovers(r)).toEqual([]);
  });

  it('(d2) killed while NodeUnstage is running (timed kill): the retry converges, no loop device left', async () => {
    // A timed variant of (d): SIGKILL as soon as the staging mount is gone, wherever the driver
    // then is (detaching, removing its record, or done). Whatever point is hit, the retry converges.
    rig = await startRig();
    const r = rig;
    const { id, context } = await publishedVolume(r);
    const p = paths(r, id);
    await mkdir(p.staging, { recursive: true });
    await call(r.clients.node, 'NodeStageVolume', { volume_id: id, volume_capability: cap, publish_context: context, staging_target_path: p.staging });
    const inflight = rpcStatus(r.clients.node, 'NodeUnstageVolume', { volume_id: id, staging_target_path: p.staging }, 30_000);
    await waitUntil(async () => (await mountCount(p.staging)) === 0, 'the staging mount to go', 10_000);
    await r.kill();
    await inflight;
    await r.restart();
    await call(r.clients.node, 'NodeUnstageVolume', { volume_id: id, staging_target_path: p.staging });
    expect(await loopsUnder(r.dir)).toEqual([]);
    await call(r.clients.controller, 'ControllerUnpublishVolume', { volume_id: id, node_id: r.nodeId });
    await call(r.clients.controller, 'DeleteVolume', { volume_id: id });
    expect(await leftovers(r)).toEqual([]);
  });
});
