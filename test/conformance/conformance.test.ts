import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  cinderList,
  Code,
  createVolume,
  discardVolume,
  GiB,
  isRoot,
  blockCap,
  leftovers,
  loopsUnder,
  mountCap,
  mountCount,
  nodePaths,
  startHarness,
  status,
  uniqueName,
  type Harness,
} from './harness.js';
import { TOPOLOGY_ZONE_KEY } from '../../src/util/package-info.js';

/**
 * A CSI conformance suite written from the CSI spec (v1.x spec.md: "Error Scheme" of each RPC,
 * idempotency requirements, pagination semantics) with the case list of kubernetes-csi/csi-test
 * pkg/sanity as a checklist. It drives the driver in `all` mode (controller + node "node-a")
 * plus a second node plugin ("node-b") over real unix sockets, with the Cinder emulator over
 * real HTTP and the node data path on real loop devices. Root only (mounts, loop devices).
 *
 * Every case is registered through `conf`, which counts the cases and records which passed; the
 * last case checks that every advertised capability maps to a passed case, so advertising an
 * untested capability fails the suite.
 */

const REPEAT = 10;
const registered: string[] = [];
const passed = new Set<string>();

function conf(name: string, fn: () => Promise<void>, timeoutMs = 60_000): void {
  if (registered.includes(name)) throw new Error(`duplicate conformance case name: ${name}`);
  registered.push(name);
  it(name, async () => {
    await fn();
    passed.add(name);
  }, timeoutMs);
}

/** Advertised capability → the case that exercises it. */
const COVERAGE: Record<string, string> = {
  'plugin:CONTROLLER_SERVICE': 'CreateVolume is idempotent (10 repeats, one Cinder volume)',
  'plugin:VOLUME_ACCESSIBILITY_CONSTRAINTS': 'CreateVolume honours accessibility_requirements and reports the zone',
  'plugin:GROUP_CONTROLLER_SERVICE': 'GroupControllerGetCapabilities lists the group snapshot RPCs',
  'group:CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT': 'a VolumeGroupSnapshot of two volumes: one Cinder group snapshot for 10 repeats, members restorable and deleted only with it, nothing left',
  'expansion:ONLINE': 'ControllerExpandVolume then NodeExpandVolume grow a mounted xfs volume online (10 repeats each)',
  'expansion:OFFLINE': 'ControllerExpandVolume on an unpublished volume (offline), then staging sees the new size',
  'controller:CREATE_DELETE_VOLUME': 'DeleteVolume is idempotent (10 repeats)',
  'controller:PUBLISH_UNPUBLISH_VOLUME': 'ControllerUnpublishVolume is idempotent (10 repeats, attachment gone)',
  'controller:LIST_VOLUMES': 'ListVolumes pages through every volume with max_entries and next_token',
  'controller:LIST_VOLUMES_PUBLISHED_NODES': 'ListVolumes and ControllerGetVolume report the published node',
  'controller:GET_CAPACITY': 'GetCapacity shrinks by the size of a new volume',
  'controller:CREATE_DELETE_SNAPSHOT': 'CreateSnapshot is idempotent (10 repeats, one Cinder snapshot)',
  'controller:LIST_SNAPSHOTS': 'ListSnapshots by snapshot_id and by source_volume_id',
  'controller:MODIFY_VOLUME': 'ControllerModifyVolume retypes a mounted volume in place with its data intact, and refuses a key it cannot change',
  'controller:CLONE_VOLUME': 'restore from the snapshot and clone of the volume hold the written data',
  'controller:EXPAND_VOLUME': 'ControllerExpandVolume then NodeExpandVolume grow a mounted xfs volume online (10 repeats each)',
  'controller:PUBLISH_READONLY': 'readonly ControllerPublish hands a read-only connection and conflicts with an rw one',
  'controller:GET_VOLUME': 'ListVolumes and ControllerGetVolume report the published node',
  'controller:VOLUME_CONDITION': 'ListVolumes and ControllerGetVolume report the published node',
  'controller:SINGLE_NODE_MULTI_WRITER': 'SINGLE_NODE_MULTI_WRITER: validated, one node only, two targets on that node',
  'node:STAGE_UNSTAGE_VOLUME': 'NodeUnstageVolume is idempotent (10 repeats, no mount, no loop device)',
  'node:GET_VOLUME_STATS': 'NodeGetVolumeStats reports bytes and inodes of the mounted volume',
  'node:EXPAND_VOLUME': 'ControllerExpandVolume then NodeExpandVolume grow a mounted xfs volume online (10 repeats each)',
  'node:VOLUME_CONDITION': 'NodeGetVolumeStats reports bytes and inodes of the mounted volume',
  'node:SINGLE_NODE_MULTI_WRITER': 'SINGLE_NODE_MULTI_WRITER: validated, one node only, two targets on that node',
};

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe.skipIf(!isRoot)('CSI conformance (driver in all mode + second node plugin, emulator, loop devices)', () => {
  let h: Harness;
  const suiteStart = Date.now();
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
    console.log(`conformance: ${registered.length} cases, ${passed.size} passed, ${((Date.now() - suiteStart) / 1000).toFixed(1)} s`);
  });

  const ctl = () => h.all.controller;
  const kd = (rel: string) => join(h.kubeletDir, rel);

  describe('required fields → INVALID_ARGUMENT naming the field', () => {
    // [service, method, request, field named in the message]
    const rows: Array<[string, string, () => Record<string, unknown>, string]> = [
      ['controller', 'CreateVolume', () => ({ volume_capabilities: [mountCap()] }), 'name'],
      ['controller', 'CreateVolume', () => ({ name: uniqueName('req') }), 'volume_capabilities'],
      ['controller', 'DeleteVolume', () => ({}), 'volume_id'],
      ['controller', 'ControllerPublishVolume', () => ({ node_id: h.nodeA.nodeId, volume_capability: mountCap() }), 'volume_id'],
      ['controller', 'ControllerPublishVolume', () => ({ volume_id: 'v', volume_capability: mountCap() }), 'node_id'],
      ['controller', 'ControllerPublishVolume', () => ({ volume_id: 'v', node_id: h.nodeA.nodeId }), 'volume_capability'],
      ['controller', 'ControllerUnpublishVolume', () => ({ node_id: h.nodeA.nodeId }), 'volume_id'],
      ['controller', 'ValidateVolumeCapabilities', () => ({ volume_capabilities: [mountCap()] }), 'volume_id'],
      ['controller', 'ValidateVolumeCapabilities', () => ({ volume_id: 'v' }), 'volume_capabilities'],
      ['controller', 'CreateSnapshot', () => ({ source_volume_id: 'v' }), 'name'],
      ['controller', 'CreateSnapshot', () => ({ name: uniqueName('req') }), 'source_volume_id'],
      ['controller', 'DeleteSnapshot', () => ({}), 'snapshot_id'],
      ['controller', 'GetSnapshot', () => ({}), 'snapshot_id'],
      ['controller', 'ControllerExpandVolume', () => ({ capacity_range: { required_bytes: String(GiB) } }), 'volume_id'],
      ['controller', 'ControllerExpandVolume', () => ({ volume_id: 'v' }), 'capacity_range'],
      ['controller', 'ControllerGetVolume', () => ({}), 'volume_id'],
      ['controller', 'ControllerModifyVolume', () => ({ mutable_parameters: { type: 'conf-gold' } }), 'volume_id'],
      ['node', 'NodeStageVolume', () => ({ staging_target_path: kd('s'), volume_capability: mountCap() }), 'volume_id'],
      ['node', 'NodeStageVolume', () => ({ volume_id: 'v', volume_capability: mountCap() }), 'staging_target_path'],
      ['node', 'NodeStageVolume', () => ({ volume_id: 'v', staging_target_path: kd('s') }), 'volume_capability'],
      ['node', 'NodeUnstageVolume', () => ({ staging_target_path: kd('s') }), 'volume_id'],
      ['node', 'NodeUnstageVolume', () => ({ volume_id: 'v' }), 'staging_target_path'],
      ['node', 'NodePublishVolume', () => ({ staging_target_path: kd('s'), target_path: kd('t'), volume_capability: mountCap() }), 'volume_id'],
      ['node', 'NodePublishVolume', () => ({ volume_id: 'v', staging_target_path: kd('s'), volume_capability: mountCap() }), 'target_path'],
      ['node', 'NodePublishVolume', () => ({ volume_id: 'v', staging_target_path: kd('s'), target_path: kd('t') }), 'volume_capability'],
      ['node', 'NodeUnpublishVolume', () => ({ target_path: kd('t') }), 'volume_id'],
      ['node', 'NodeUnpublishVolume', () => ({ volume_id: 'v' }), 'target_path'],
      ['node', 'NodeGetVolumeStats', () => ({ volume_path: kd('t') }), 'volume_id'],
      ['node', 'NodeGetVolumeStats', () => ({ volume_id: 'v' }), 'volume_path'],
      ['node', 'NodeExpandVolume', () => ({ volume_path: kd('t') }), 'volume_id'],
      ['node', 'NodeExpandVolume', () => ({ volume_id: 'v' }), 'volume_path'],
    ];
    for (const [svc, method, req, field] of rows) {
      conf(`${method} without ${field} → INVALID_ARGUMENT`, async () => {
        const client = svc === 'controller' ? ctl() : h.nodeA.client;
        const out = await status(client, method, req());
        expect(out.code, out.details).toBe(Code.INVALID_ARGUMENT);
        expect(out.details).toContain(field);
      });
    }
    conf('NodeStageVolume with a staging_target_path outside the kubelet dir → INVALID_ARGUMENT', async () => {
      const out = await status(h.nodeA.client, 'NodeStageVolume', { volume_id: 'v', staging_target_path: '/tmp/outside-kubelet', volume_capability: mountCap(), publish_context: {} });
      expect(out.code, out.details).toBe(Code.INVALID_ARGUMENT);
      expect(out.details).toContain('staging_target_path');
    });
  });

  describe('absent objects → NOT_FOUND, or success where the spec calls the outcome already reached', () => {
    const missing = '00000000-0000-4000-8000-00000000dead';
    const rows: Array<[string, string, () => Record<string, unknown>, number]> = [
      ['controller', 'ControllerPublishVolume', () => ({ volume_id: missing, node_id: h.nodeA.nodeId, volume_capability: mountCap() }), Code.NOT_FOUND],
      ['controller', 'ValidateVolumeCapabilities', () => ({ volume_id: missing, volume_capabilities: [mountCap()] }), Code.NOT_FOUND],
      ['controller', 'CreateSnapshot', () => ({ name: uniqueName('nf'), source_volume_id: missing }), Code.NOT_FOUND],
      ['controller', 'ControllerExpandVolume', () => ({ volume_id: missing, capacity_range: { required_bytes: String(2 * GiB) } }), Code.NOT_FOUND],
      ['controller', 'ControllerGetVolume', () => ({ volume_id: missing }), Code.NOT_FOUND],
      ['controller', 'CreateVolume', () => ({ name: uniqueName('nf'), volume_capabilities: [mountCap()], volume_content_source: { snapshot: { snapshot_id: missing } } }), Code.NOT_FOUND],
      ['controller', 'CreateVolume', () => ({ name: uniqueName('nf'), volume_capabilities: [mountCap()], volume_content_source: { volume: { volume_id: missing } } }), Code.NOT_FOUND],
      ['node', 'NodeGetVolumeStats', () => ({ volume_id: missing, volume_path: kd('no/such/path') }), Code.NOT_FOUND],
      ['node', 'NodeExpandVolume', () => ({ volume_id: missing, volume_path: kd('no/such/path') }), Code.NOT_FOUND],
      ['controller', 'DeleteVolume', () => ({ volume_id: missing }), Code.OK],
      ['controller', 'DeleteSnapshot', () => ({ snapshot_id: missing }), Code.OK],
      ['controller', 'ControllerUnpublishVolume', () => ({ volume_id: missing, node_id: h.nodeA.nodeId }), Code.OK],
      ['node', 'NodeUnstageVolume', () => ({ volume_id: missing, staging_target_path: kd('never/staged') }), Code.OK],
      ['node', 'NodeUnpublishVolume', () => ({ volume_id: missing, target_path: kd('never/published') }), Code.OK],
    ];
    for (const [svc, method, req, code] of rows) {
      const label = code === Code.OK ? 'OK' : 'NOT_FOUND';
      const what = /volume_content_source: \{ (\w+)/.exec(req.toString())?.[1] ?? /\b(volume_id|snapshot_id|source_volume_id|staging_target_path|target_path|volume_path)\b/.exec(req.toString())?.[1] ?? 'object';
      conf(`${method} on a missing ${what} → ${label}`, async () => {
        const client = svc === 'controller' ? ctl() : h.nodeA.client;
        const out = await status(client, method, req());
        expect(out.code, out.details).toBe(code);
      });
    }
    conf('ControllerPublishVolume to an unknown node id → NOT_FOUND', async () => {
      const vol = await createVolume(h, uniqueName('nf-node'));
      try {
        const out = await status(ctl(), 'ControllerPublishVolume', { volume_id: vol.volume_id, node_id: 'no-such-node', volume_capability: mountCap() });
        expect(out.code, out.details).toBe(Code.NOT_FOUND);
        expect(out.details).toContain('no-such-node');
      } finally {
        await discardVolume(h, vol.volume_id);
      }
    });
    conf('ListSnapshots by a missing snapshot_id or source_volume_id → empty list', async () => {
      for (const req of [{ snapshot_id: missing }, { source_volume_id: missing }]) {
        const res = await call(ctl(), 'ListSnapshots', req);
        expect(res.entries ?? []).toEqual([]);
      }
    });
  });

  describe('identity', () => {
    conf('GetPluginInfo names the driver and a version; Probe is ready', async () => {
      const info = await call(h.all.identity, 'GetPluginInfo', {});
      expect(info.name).toMatch(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/);
      expect(info.name.length).toBeLessThanOrEqual(63);
      expect(info.vendor_version).not.toBe('');
      const probe = await call(h.all.identity, 'Probe', {});
      expect(probe.ready?.value ?? true).toBe(true);
    });
  });

  describe('volume lifecycle, mount access type (xfs), every mutating RPC repeated', () => {
    const payload = randomBytes(512 * 1024);
    const name = uniqueName('conf-life');
    let volumeId = '';
    let context: Record<string, string> = {};
    let snapshotId = '';
    const cap = mountCap('xfs');
    const paths = () => nodePaths(h, volumeId, 'node-a');

    conf('CreateVolume is idempotent (10 repeats, one Cinder volume)', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < REPEAT; i++) {
        const res = await call(ctl(), 'CreateVolume', { name, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [cap] });
        ids.add(res.volume.volume_id);
        expect(Number(res.volume.capacity_bytes)).toBeGreaterThanOrEqual(GiB);
      }
      expect(ids.size).toBe(1);
      volumeId = [...ids][0]!;
      const named = (await cinderList(h, 'volumes')).filter((v) => v.name === name);
      expect(named.map((v) => v.id)).toEqual([volumeId]);
    });

    conf('CreateVolume with the same name but an incompatible size → ALREADY_EXISTS', async () => {
      const out = await status(ctl(), 'CreateVolume', { name, capacity_range: { required_bytes: String(3 * GiB) }, volume_capabilities: [cap] });
      expect(out.code, out.details).toBe(Code.ALREADY_EXISTS);
    });

    conf('ControllerPublishVolume is idempotent (10 repeats, one attachment)', async () => {
      const contexts = new Set<string>();
      for (let i = 0; i < REPEAT; i++) {
        const res = await call(ctl(), 'ControllerPublishVolume', { volume_id: volumeId, node_id: h.nodeA.nodeId, volume_capability: cap, readonly: false });
        context = res.publish_context;
        contexts.add(JSON.stringify(res.publish_context));
      }
      expect(contexts.size).toBe(1);
      const atts = (await cinderList(h, 'attachments')).filter((a) => a.volume_id === volumeId);
      expect(atts).toHaveLength(1);
    });

    conf('ControllerPublishVolume to a second node of a single-writer volume → FAILED_PRECONDITION naming the node', async () => {
      const out = await status(ctl(), 'ControllerPublishVolume', { volume_id: volumeId, node_id: h.nodeB.nodeId, volume_capability: cap, readonly: false });
      expect(out.code, out.details).toBe(Code.FAILED_PRECONDITION);
      expect(out.details).toContain('node-a');
      expect((await cinderList(h, 'attachments')).filter((a) => a.volume_id === volumeId)).toHaveLength(1);
    });

    conf('ListVolumes and ControllerGetVolume report the published node', async () => {
      const got = await call(ctl(), 'ControllerGetVolume', { volume_id: volumeId });
      expect(got.volume.volume_id).toBe(volumeId);
      expect(got.status.published_node_ids).toEqual([h.nodeA.nodeId]);
      expect(got.status.volume_condition.abnormal).toBe(false);
      let token = '';
      let entry: any;
      do {
        const page = await call(ctl(), 'ListVolumes', { max_entries: 50, starting_token: token });
        entry ??= (page.entries as any[]).find((e) => e.volume.volume_id === volumeId);
        token = page.next_token;
      } while (token);
      expect(entry?.status.published_node_ids).toEqual([h.nodeA.nodeId]);
      expect(entry?.status.volume_condition).toBeTruthy();
    });

    conf('NodeStageVolume is idempotent (10 repeats, one mount)', async () => {
      await mkdir(paths().staging, { recursive: true });
      for (let i = 0; i < REPEAT; i++) {
        await call(h.nodeA.client, 'NodeStageVolume', { volume_id: volumeId, staging_target_path: paths().staging, volume_capability: cap, publish_context: context });
      }
      expect(await mountCount(paths().staging)).toBe(1);
    });

    conf('NodePublishVolume is idempotent (10 repeats, one mount) and the volume is writable', async () => {
      for (let i = 0; i < REPEAT; i++) {
        await call(h.nodeA.client, 'NodePublishVolume', {
          volume_id: volumeId, staging_target_path: paths().staging, target_path: paths().target, volume_capability: cap, publish_context: context, readonly: false,
        });
      }
      expect(await mountCount(paths().target)).toBe(1);
      await writeFile(join(paths().target, 'data.bin'), payload);
      expect(sha(await readFile(join(paths().staging, 'data.bin')))).toBe(sha(payload));
    });

    conf('NodeGetVolumeStats reports bytes and inodes of the mounted volume', async () => {
      const res = await call(h.nodeA.client, 'NodeGetVolumeStats', { volume_id: volumeId, volume_path: paths().target });
      const bytes = (res.usage as any[]).find((u) => u.unit === 'BYTES');
      const inodes = (res.usage as any[]).find((u) => u.unit === 'INODES');
      const fs = await statfs(paths().target);
      expect(Number(bytes.total)).toBe(fs.blocks * fs.bsize);
      expect(Number(bytes.used)).toBeGreaterThanOrEqual(payload.length);
      expect(Number(inodes.total)).toBeGreaterThan(0);
      expect(res.volume_condition.abnormal).toBe(false);
    });

    conf('ControllerExpandVolume then NodeExpandVolume grow a mounted xfs volume online (10 repeats each)', async () => {
      const before = await statfs(paths().target);
      for (let i = 0; i < REPEAT; i++) {
        const res = await call(ctl(), 'ControllerExpandVolume', { volume_id: volumeId, capacity_range: { required_bytes: String(2 * GiB) }, volume_capability: cap });
        expect(Number(res.capacity_bytes)).toBeGreaterThanOrEqual(2 * GiB);
        expect(res.node_expansion_required).toBe(true);
      }
      const cinder = (await cinderList(h, 'volumes')).find((v) => v.id === volumeId);
      expect(cinder.size).toBe(2);
      for (let i = 0; i < REPEAT; i++) {
        const res = await call(h.nodeA.client, 'NodeExpandVolume', {
          volume_id: volumeId, volume_path: paths().target, staging_target_path: paths().staging, capacity_range: { required_bytes: String(2 * GiB) }, volume_capability: cap,
        });
        if (res.capacity_bytes !== undefined && res.capacity_bytes !== '0') expect(Number(res.capacity_bytes)).toBeGreaterThanOrEqual(2 * GiB);
      }
      const after = await statfs(paths().target);
      expect(after.blocks * after.bsize).toBeGreaterThan(before.blocks * before.bsize + 0.8 * GiB);
      expect(sha(await readFile(join(paths().target, 'data.bin')))).toBe(sha(payload));
    });

    conf('NodeUnpublishVolume is idempotent (10 repeats, target unmounted)', async () => {
      for (let i = 0; i < REPEAT; i++) await call(h.nodeA.client, 'NodeUnpublishVolume', { volume_id: volumeId, target_path: paths().target });
      expect(await mountCount(paths().target)).toBe(0);
      expect(await mountCount(paths().staging)).toBe(1);
    });

    conf('NodeUnstageVolume is idempotent (10 repeats, no mount, no loop device)', async () => {
      for (let i = 0; i < REPEAT; i++) await call(h.nodeA.client, 'NodeUnstageVolume', { volume_id: volumeId, staging_target_path: paths().staging });
      expect(await mountCount(paths().staging)).toBe(0);
      expect(await loopsUnder(h.dir)).toEqual([]);
    });

    conf('ControllerUnpublishVolume is idempotent (10 repeats, attachment gone)', async () => {
      for (let i = 0; i < REPEAT; i++) await call(ctl(), 'ControllerUnpublishVolume', { volume_id: volumeId, node_id: h.nodeA.nodeId });
      expect((await cinderList(h, 'attachments')).filter((a) => a.volume_id === volumeId)).toEqual([]);
      const got = await call(ctl(), 'ControllerGetVolume', { volume_id: volumeId });
      expect(got.status.published_node_ids ?? []).toEqual([]);
    });

    conf('CreateSnapshot is idempotent (10 repeats, one Cinder snapshot)', async () => {
      const snapName = uniqueName('conf-snap');
      const ids = new Set<string>();
      for (let i = 0; i < REPEAT; i++) {
        const res = await call(ctl(), 'CreateSnapshot', { name: snapName, source_volume_id: volumeId });
        ids.add(res.snapshot.snapshot_id);
        expect(res.snapshot.source_volume_id).toBe(volumeId);
        expect(Number(res.snapshot.size_bytes)).toBe(2 * GiB);
      }
      expect(ids.size).toBe(1);
      snapshotId = [...ids][0]!;
      expect((await cinderList(h, 'snapshots')).filter((s) => s.name === snapName).map((s) => s.id)).toEqual([snapshotId]);
      const other = await status(ctl(), 'CreateSnapshot', { name: snapName, source_volume_id: '00000000-0000-4000-8000-00000000beef' });
      expect([Code.ALREADY_EXISTS, Code.NOT_FOUND]).toContain(other.code);
    });

    conf('ListSnapshots by snapshot_id and by source_volume_id', async () => {
      const byId = await call(ctl(), 'ListSnapshots', { snapshot_id: snapshotId });
      expect((byId.entries as any[]).map((e) => e.snapshot.snapshot_id)).toEqual([snapshotId]);
      const bySource = await call(ctl(), 'ListSnapshots', { source_volume_id: volumeId });
      expect((bySource.entries as any[]).map((e) => e.snapshot.snapshot_id)).toEqual([snapshotId]);
      expect(bySource.entries[0].snapshot.ready_to_use).toBe(true);
    });

    conf('GetSnapshot answers the snapshot ListSnapshots lists, NOT_FOUND for an unknown id', async () => {
      const got = await call(ctl(), 'GetSnapshot', { snapshot_id: snapshotId });
      const listed = await call(ctl(), 'ListSnapshots', { snapshot_id: snapshotId });
      expect(got.snapshot).toEqual(listed.entries[0].snapshot);
      expect(got.snapshot.ready_to_use).toBe(true);
      const missing = await status(ctl(), 'GetSnapshot', { snapshot_id: '00000000-0000-4000-8000-000000000000' });
      expect(missing.code).toBe(Code.NOT_FOUND);
    });

    conf('restore from the snapshot and clone of the volume hold the written data', async () => {
      const restore = await createVolume(h, uniqueName('conf-restore'), { capacity_range: { required_bytes: String(2 * GiB) }, volume_capabilities: [cap], volume_content_source: { snapshot: { snapshot_id: snapshotId } } });
      const clone = await createVolume(h, uniqueName('conf-clone'), { capacity_range: { required_bytes: String(2 * GiB) }, volume_capabilities: [cap], volume_content_source: { volume: { volume_id: volumeId } } });
      try {
        expect(restore.content_source?.snapshot?.snapshot_id).toBe(snapshotId);
        expect(clone.content_source?.volume?.volume_id).toBe(volumeId);
        for (const v of [restore, clone]) {
          const pub = await call(ctl(), 'ControllerPublishVolume', { volume_id: v.volume_id, node_id: h.nodeB.nodeId, volume_capability: cap });
          const p = nodePaths(h, v.volume_id, 'node-b');
          await mkdir(p.staging, { recursive: true });
          const base = { volume_id: v.volume_id, volume_capability: cap, publish_context: pub.publish_context };
          await call(h.nodeB.client, 'NodeStageVolume', { ...base, staging_target_path: p.staging });
          await call(h.nodeB.client, 'NodePublishVolume', { ...base, staging_target_path: p.staging, target_path: p.target, readonly: true });
          try {
            expect(sha(await readFile(join(p.target, 'data.bin')))).toBe(sha(payload));
            // readonly NodePublish: the target is mounted read-only.
            await expect(writeFile(join(p.target, 'other'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
          } finally {
            await call(h.nodeB.client, 'NodeUnpublishVolume', { volume_id: v.volume_id, target_path: p.target });
            await call(h.nodeB.client, 'NodeUnstageVolume', { volume_id: v.volume_id, staging_target_path: p.staging });
            await call(ctl(), 'ControllerUnpublishVolume', { volume_id: v.volume_id, node_id: h.nodeB.nodeId });
          }
        }
      } finally {
        for (const v of [restore, clone]) {
          const p = nodePaths(h, v.volume_id, 'node-b');
          await discardVolume(h, v.volume_id, { targets: [p.target], staging: p.staging, on: 'b' });
        }
      }
    }, 120_000);

    conf('a VolumeSnapshot of type backup: one Cinder backup for 10 repeats, its restore holds the written data, DeleteSnapshot idempotent', async () => {
      const name = uniqueName('conf-backup');
      const ids = new Set<string>();
      for (let i = 0; i < REPEAT; i++) {
        const res = await call(ctl(), 'CreateSnapshot', { name, source_volume_id: volumeId, parameters: { type: 'backup' } });
        ids.add(res.snapshot.snapshot_id);
        expect(Number(res.snapshot.size_bytes)).toBe(2 * GiB);
      }
      expect(ids.size).toBe(1);
      const backupId = [...ids][0]!;
      expect(backupId).toMatch(/^backup:/);
      expect((await cinderList(h, 'backups')).filter((b) => b.name === name).map((b) => `backup:${b.id}`)).toEqual([backupId]);
      const bySource = await call(ctl(), 'ListSnapshots', { source_volume_id: volumeId });
      expect((bySource.entries as any[]).map((e) => e.snapshot.snapshot_id)).toEqual([snapshotId, backupId]);

      const restore = await createVolume(h, uniqueName('conf-backup-restore'), { capacity_range: { required_bytes: String(3 * GiB) }, volume_capabilities: [cap], volume_content_source: { snapshot: { snapshot_id: backupId } } });
      const p = nodePaths(h, restore.volume_id, 'node-b');
      try {
        expect(restore.content_source?.snapshot?.snapshot_id).toBe(backupId);
        const pub = await call(ctl(), 'ControllerPublishVolume', { volume_id: restore.volume_id, node_id: h.nodeB.nodeId, volume_capability: cap });
        await mkdir(p.staging, { recursive: true });
        const base = { volume_id: restore.volume_id, volume_capability: cap, publish_context: pub.publish_context, volume_context: restore.volume_context };
        await call(h.nodeB.client, 'NodeStageVolume', { ...base, staging_target_path: p.staging });
        await call(h.nodeB.client, 'NodePublishVolume', { ...base, staging_target_path: p.staging, target_path: p.target, readonly: false });
        try {
          expect(sha(await readFile(join(p.target, 'data.bin')))).toBe(sha(payload));
          // Staging grew the restored file system to the larger volume.
          const fs = await statfs(p.target);
          expect(fs.blocks * fs.bsize).toBeGreaterThan(2 * GiB);
        } finally {
          await call(h.nodeB.client, 'NodeUnpublishVolume', { volume_id: restore.volume_id, target_path: p.target });
          await call(h.nodeB.client, 'NodeUnstageVolume', { volume_id: restore.volume_id, staging_target_path: p.staging });
          await call(ctl(), 'ControllerUnpublishVolume', { volume_id: restore.volume_id, node_id: h.nodeB.nodeId });
        }
      } finally {
        await discardVolume(h, restore.volume_id, { targets: [p.target], staging: p.staging, on: 'b' });
      }
      for (let i = 0; i < REPEAT; i++) await call(ctl(), 'DeleteSnapshot', { snapshot_id: backupId });
      expect((await cinderList(h, 'backups')).filter((b) => b.name === name)).toEqual([]);
      expect((await status(ctl(), 'GetSnapshot', { snapshot_id: backupId })).code).toBe(Code.NOT_FOUND);
    }, 120_000);

    conf('DeleteSnapshot is idempotent (10 repeats)', async () => {
      for (let i = 0; i < REPEAT; i++) await call(ctl(), 'DeleteSnapshot', { snapshot_id: snapshotId });
      expect((await cinderList(h, 'snapshots')).filter((s) => s.id === snapshotId)).toEqual([]);
      const byId = await call(ctl(), 'ListSnapshots', { snapshot_id: snapshotId });
      expect(byId.entries ?? []).toEqual([]);
    });

    conf('DeleteVolume is idempotent (10 repeats)', async () => {
      for (let i = 0; i < REPEAT; i++) await call(ctl(), 'DeleteVolume', { volume_id: volumeId });
      expect((await cinderList(h, 'volumes')).filter((v) => v.id === volumeId)).toEqual([]);
      const got = await status(ctl(), 'ControllerGetVolume', { volume_id: volumeId });
      expect(got.code).toBe(Code.NOT_FOUND);
    });
  });

  describe('block access type', () => {
    conf('block volume: stage, publish to a file target, raw I/O, unpublish, unstage', async () => {
      const cap = blockCap();
      const vol = await createVolume(h, uniqueName('conf-block'), { volume_capabilities: [cap] });
      const p = nodePaths(h, vol.volume_id, 'node-a');
      const target = join(p.target, '..', 'block-dev');
      try {
        const pub = await call(ctl(), 'ControllerPublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId, volume_capability: cap });
        await mkdir(p.staging, { recursive: true });
        const base = { volume_id: vol.volume_id, volume_capability: cap, publish_context: pub.publish_context };
        for (let i = 0; i < 2; i++) await call(h.nodeA.client, 'NodeStageVolume', { ...base, staging_target_path: p.staging });
        for (let i = 0; i < 2; i++) await call(h.nodeA.client, 'NodePublishVolume', { ...base, staging_target_path: p.staging, target_path: target });
        expect((await stat(target)).isBlockDevice()).toBe(true);
        expect(await mountCount(target)).toBe(1);
        const block = randomBytes(4096);
        const fd = await open(target, 'r+');
        try {
          await fd.write(block, 0, block.length, 8192);
          await fd.sync();
          const back = Buffer.alloc(4096);
          await fd.read(back, 0, 4096, 8192);
          expect(sha(back)).toBe(sha(block));
        } finally {
          await fd.close();
        }
        // kubelet sends staging_target_path along when the plugin has STAGE_UNSTAGE_VOLUME.
        const stats = await call(h.nodeA.client, 'NodeGetVolumeStats', { volume_id: vol.volume_id, volume_path: target, staging_target_path: p.staging });
        expect(Number((stats.usage as any[]).find((u) => u.unit === 'BYTES').total)).toBe(GiB);
        for (let i = 0; i < 2; i++) await call(h.nodeA.client, 'NodeUnpublishVolume', { volume_id: vol.volume_id, target_path: target });
        expect(await mountCount(target)).toBe(0);
        for (let i = 0; i < 2; i++) await call(h.nodeA.client, 'NodeUnstageVolume', { volume_id: vol.volume_id, staging_target_path: p.staging });
        expect(await loopsUnder(h.dir)).toEqual([]);
        await call(ctl(), 'ControllerUnpublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId });
      } finally {
        await discardVolume(h, vol.volume_id, { targets: [target], staging: p.staging });
      }
    });
  });

  describe('publish modes', () => {
    conf('readonly ControllerPublish hands a read-only connection and conflicts with an rw one', async () => {
      const vol = await createVolume(h, uniqueName('conf-ro'));
      try {
        const ro = await call(ctl(), 'ControllerPublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId, volume_capability: mountCap(), readonly: true });
        expect(JSON.parse(ro.publish_context.connection).accessMode).toBe('ro');
        const again = await call(ctl(), 'ControllerPublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId, volume_capability: mountCap(), readonly: true });
        expect(again.publish_context).toEqual(ro.publish_context);
        const rw = await status(ctl(), 'ControllerPublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId, volume_capability: mountCap(), readonly: false });
        expect(rw.code, rw.details).toBe(Code.ALREADY_EXISTS);
        await call(ctl(), 'ControllerUnpublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId });
        expect((await cinderList(h, 'attachments')).filter((a) => a.volume_id === vol.volume_id)).toEqual([]);
      } finally {
        await discardVolume(h, vol.volume_id);
      }
    });

    conf('SINGLE_NODE_MULTI_WRITER: validated, one node only, two targets on that node', async () => {
      const cap = mountCap('ext4', 'SINGLE_NODE_MULTI_WRITER');
      const vol = await createVolume(h, uniqueName('conf-snmw'), { volume_capabilities: [cap] });
      const p = nodePaths(h, vol.volume_id, 'node-a');
      const t2 = join(p.target, '..', '..', 'second', 'mount');
      try {
        const valid = await call(ctl(), 'ValidateVolumeCapabilities', { volume_id: vol.volume_id, volume_capabilities: [cap] });
        expect(valid.confirmed?.volume_capabilities?.[0]?.access_mode?.mode).toBe('SINGLE_NODE_MULTI_WRITER');
        const pub = await call(ctl(), 'ControllerPublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId, volume_capability: cap });
        const toB = await status(ctl(), 'ControllerPublishVolume', { volume_id: vol.volume_id, node_id: h.nodeB.nodeId, volume_capability: cap });
        expect(toB.code, toB.details).toBe(Code.FAILED_PRECONDITION);
        expect(toB.details).toContain('node-a');
        await mkdir(p.staging, { recursive: true });
        const base = { volume_id: vol.volume_id, volume_capability: cap, publish_context: pub.publish_context };
        await call(h.nodeA.client, 'NodeStageVolume', { ...base, staging_target_path: p.staging });
        for (const t of [p.target, t2]) await call(h.nodeA.client, 'NodePublishVolume', { ...base, staging_target_path: p.staging, target_path: t });
        await writeFile(join(p.target, 'one'), 'written through the first target');
        expect(await readFile(join(t2, 'one'), 'utf8')).toBe('written through the first target');
        for (const t of [p.target, t2]) await call(h.nodeA.client, 'NodeUnpublishVolume', { volume_id: vol.volume_id, target_path: t });
        await call(h.nodeA.client, 'NodeUnstageVolume', { volume_id: vol.volume_id, staging_target_path: p.staging });
        await call(ctl(), 'ControllerUnpublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId });
      } finally {
        await discardVolume(h, vol.volume_id, { targets: [p.target, t2], staging: p.staging });
      }
    });

    conf('ControllerExpandVolume on an unpublished volume (offline), then staging sees the new size', async () => {
      // xfs: growing ext4 needs CAP_SYS_RESOURCE, which this machine may lack (see src/demo/capabilities.ts).
      const cap = mountCap('xfs');
      const vol = await createVolume(h, uniqueName('conf-offline'), { volume_capabilities: [cap] });
      const p = nodePaths(h, vol.volume_id, 'node-a');
      try {
        // Format it at 1 GiB first, so the offline growth has a file system to grow.
        const pub = await call(ctl(), 'ControllerPublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId, volume_capability: cap });
        await mkdir(p.staging, { recursive: true });
        await call(h.nodeA.client, 'NodeStageVolume', { volume_id: vol.volume_id, volume_capability: cap, publish_context: pub.publish_context, staging_target_path: p.staging });
        const small = await statfs(p.staging);
        await call(h.nodeA.client, 'NodeUnstageVolume', { volume_id: vol.volume_id, staging_target_path: p.staging });
        await call(ctl(), 'ControllerUnpublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId });
        const res = await call(ctl(), 'ControllerExpandVolume', { volume_id: vol.volume_id, capacity_range: { required_bytes: String(2 * GiB) }, volume_capability: cap });
        expect(Number(res.capacity_bytes)).toBeGreaterThanOrEqual(2 * GiB);
        const pub2 = await call(ctl(), 'ControllerPublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId, volume_capability: cap });
        await call(h.nodeA.client, 'NodeStageVolume', { volume_id: vol.volume_id, volume_capability: cap, publish_context: pub2.publish_context, staging_target_path: p.staging });
        try {
          if (res.node_expansion_required) {
            await call(h.nodeA.client, 'NodeExpandVolume', { volume_id: vol.volume_id, volume_path: p.staging, staging_target_path: p.staging, volume_capability: cap, capacity_range: { required_bytes: String(2 * GiB) } });
          }
          const big = await statfs(p.staging);
          expect(big.blocks * big.bsize).toBeGreaterThan(small.blocks * small.bsize + 0.8 * GiB);
        } finally {
          await call(h.nodeA.client, 'NodeUnstageVolume', { volume_id: vol.volume_id, staging_target_path: p.staging });
          await call(ctl(), 'ControllerUnpublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId });
        }
      } finally {
        await discardVolume(h, vol.volume_id, { staging: p.staging });
      }
    }, 120_000);
  });

  describe('volume attributes', () => {
    conf('ControllerModifyVolume retypes a mounted volume in place with its data intact, and refuses a key it cannot change', async () => {
      const cap = mountCap();
      const vol = await createVolume(h, uniqueName('conf-modify'));
      const p = nodePaths(h, vol.volume_id, 'node-a');
      try {
        const pub = await call(ctl(), 'ControllerPublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId, volume_capability: cap });
        await mkdir(p.staging, { recursive: true });
        await call(h.nodeA.client, 'NodeStageVolume', { volume_id: vol.volume_id, volume_capability: cap, publish_context: pub.publish_context, staging_target_path: p.staging });
        const data = randomBytes(64 * 1024);
        await writeFile(join(p.staging, 'data.bin'), data);
        const bad = await status(ctl(), 'ControllerModifyVolume', { volume_id: vol.volume_id, mutable_parameters: { iops: '100' } });
        expect(bad.code).toBe(Code.INVALID_ARGUMENT);
        expect(bad.details).toContain('"iops"');
        await call(ctl(), 'ControllerModifyVolume', { volume_id: vol.volume_id, mutable_parameters: { type: 'conf-gold' } });
        const cinder = (await cinderList(h, 'volumes')).find((v) => v.id === vol.volume_id);
        expect(cinder).toMatchObject({ volume_type: 'conf-gold', status: 'in-use' });
        expect(sha(await readFile(join(p.staging, 'data.bin')))).toBe(sha(data));
        await call(h.nodeA.client, 'NodeUnstageVolume', { volume_id: vol.volume_id, staging_target_path: p.staging });
        await call(ctl(), 'ControllerUnpublishVolume', { volume_id: vol.volume_id, node_id: h.nodeA.nodeId });
      } finally {
        await discardVolume(h, vol.volume_id, { staging: p.staging });
      }
    }, 120_000);
  });

  describe('controller listing and capacity', () => {
    conf('GetCapacity shrinks by the size of a new volume', async () => {
      const before = Number((await call(ctl(), 'GetCapacity', { volume_capabilities: [mountCap()] })).available_capacity);
      const vol = await createVolume(h, uniqueName('conf-cap'));
      try {
        const after = Number((await call(ctl(), 'GetCapacity', { volume_capabilities: [mountCap()] })).available_capacity);
        expect(before).toBeGreaterThan(0);
        expect(before - after).toBe(GiB);
      } finally {
        await discardVolume(h, vol.volume_id);
      }
    });

    conf('CreateVolume honours accessibility_requirements and reports the zone', async () => {
      const zone = 'nova'; // the emulator's (only, default) availability zone
      const vol = await createVolume(h, uniqueName('conf-topo'), {
        accessibility_requirements: { requisite: [{ segments: { [TOPOLOGY_ZONE_KEY]: zone } }], preferred: [{ segments: { [TOPOLOGY_ZONE_KEY]: zone } }] },
      });
      try {
        expect(vol.accessible_topology).toEqual([{ segments: { [TOPOLOGY_ZONE_KEY]: zone } }]);
        const cinder = (await cinderList(h, 'volumes')).find((v) => v.id === vol.volume_id);
        expect(cinder.availability_zone).toBe(zone);
        // Without accessibility requirements no topology is reported (the CO did not ask for it).
        const plain = await createVolume(h, uniqueName('conf-topo-none'));
        await discardVolume(h, plain.volume_id);
        expect(plain.accessible_topology ?? []).toEqual([]);
        const other = await status(ctl(), 'CreateVolume', {
          name: uniqueName('conf-topo-bad'), capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [mountCap()],
          accessibility_requirements: { requisite: [{ segments: { [TOPOLOGY_ZONE_KEY]: 'no-such-zone' } }] },
        });
        expect(other.code, other.details).not.toBe(Code.OK);
        expect(other.details).toContain('no-such-zone');
      } finally {
        await discardVolume(h, vol.volume_id);
      }
    });

    conf('CreateVolume in a zone that cannot be provisioned → RESOURCE_EXHAUSTED (spec: "Unable to provision in accessible_topology")', async () => {
      const name = uniqueName('conf-topo-exhausted');
      const out = await status(ctl(), 'CreateVolume', {
        name, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [mountCap()],
        accessibility_requirements: { requisite: [{ segments: { [TOPOLOGY_ZONE_KEY]: 'zone-without-cinder' } }] },
      });
      expect((await cinderList(h, 'volumes')).filter((v) => v.name === name)).toEqual([]);
      expect(out.code, out.details).toBe(Code.RESOURCE_EXHAUSTED);
    });

    conf('ListVolumes pages through every volume with max_entries and next_token', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await createVolume(h, uniqueName('conf-page'))).volume_id);
      try {
        const seen: string[] = [];
        let token = '';
        let pages = 0;
        do {
          const page = await call(ctl(), 'ListVolumes', { max_entries: 2, starting_token: token });
          expect((page.entries as any[]).length).toBeLessThanOrEqual(2);
          seen.push(...(page.entries as any[]).map((e) => e.volume.volume_id));
          token = page.next_token;
          pages++;
        } while (token);
        expect(pages).toBeGreaterThanOrEqual(3);
        expect(new Set(seen).size).toBe(seen.length);
        for (const id of ids) expect(seen).toContain(id);
        const bad = await status(ctl(), 'ListVolumes', { max_entries: 2, starting_token: 'not-a-token' });
        expect(bad.code, bad.details).toBe(Code.ABORTED);
        const neg = await status(ctl(), 'ListVolumes', { max_entries: -1 });
        expect(neg.code, neg.details).toBe(Code.INVALID_ARGUMENT);
      } finally {
        for (const id of ids) await call(ctl(), 'DeleteVolume', { volume_id: id });
      }
    });

    conf('ListVolumes: volumes added or removed between pages never hide one that existed throughout', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await createVolume(h, uniqueName('conf-churn'))).volume_id);
      const added: string[] = [];
      try {
        const seen: string[] = [];
        const first = await call(ctl(), 'ListVolumes', { max_entries: 2 });
        seen.push(...(first.entries as any[]).map((e) => e.volume.volume_id));
        // Between pages: delete one volume already listed and one not yet listed, add two.
        const listed = ids.find((id) => seen.includes(id));
        const unlisted = ids.find((id) => !seen.includes(id));
        const removed = [listed, unlisted].filter((x): x is string => x !== undefined);
        for (const id of removed) await call(ctl(), 'DeleteVolume', { volume_id: id });
        for (let i = 0; i < 2; i++) added.push((await createVolume(h, uniqueName('conf-churn-new'))).volume_id);
        let token: string = first.next_token;
        while (token) {
          const page = await call(ctl(), 'ListVolumes', { max_entries: 2, starting_token: token });
          seen.push(...(page.entries as any[]).map((e) => e.volume.volume_id));
          token = page.next_token;
        }
        const throughout = ids.filter((id) => !removed.includes(id));
        for (const id of throughout) expect(seen).toContain(id);
        expect(new Set(seen).size).toBe(seen.length);
        for (const id of removed) ids.splice(ids.indexOf(id), 1);
      } finally {
        for (const id of [...ids, ...added]) await call(ctl(), 'DeleteVolume', { volume_id: id });
      }
    });

    conf('ListSnapshots pages with max_entries and next_token, survives churn, bad token → ABORTED', async () => {
      const vol = await createVolume(h, uniqueName('conf-snappage'));
      const snaps: string[] = [];
      try {
        for (let i = 0; i < 5; i++) snaps.push((await call(ctl(), 'CreateSnapshot', { name: uniqueName('conf-sp'), source_volume_id: vol.volume_id })).snapshot.snapshot_id);
        const seen: string[] = [];
        const first = await call(ctl(), 'ListSnapshots', { max_entries: 2, source_volume_id: vol.volume_id });
        expect(first.entries).toHaveLength(2);
        seen.push(...(first.entries as any[]).map((e) => e.snapshot.snapshot_id));
        const removed = snaps.find((id) => !seen.includes(id))!;
        await call(ctl(), 'DeleteSnapshot', { snapshot_id: removed });
        snaps.splice(snaps.indexOf(removed), 1);
        snaps.push((await call(ctl(), 'CreateSnapshot', { name: uniqueName('conf-sp-new'), source_volume_id: vol.volume_id })).snapshot.snapshot_id);
        let token: string = first.next_token;
        expect(token).not.toBe('');
        while (token) {
          const page = await call(ctl(), 'ListSnapshots', { max_entries: 2, source_volume_id: vol.volume_id, starting_token: token });
          expect((page.entries as any[]).length).toBeLessThanOrEqual(2);
          seen.push(...(page.entries as any[]).map((e) => e.snapshot.snapshot_id));
          token = page.next_token;
        }
        for (const id of snaps.slice(0, 4)) expect(seen).toContain(id);
        expect(seen).not.toContain(removed);
        expect(new Set(seen).size).toBe(seen.length);
        const bad = await status(ctl(), 'ListSnapshots', { max_entries: 2, starting_token: 'garbage' });
        expect(bad.code, bad.details).toBe(Code.ABORTED);
      } finally {
        for (const id of snaps) await call(ctl(), 'DeleteSnapshot', { snapshot_id: id });
        await discardVolume(h, vol.volume_id);
      }
    });

    conf('ValidateVolumeCapabilities confirms supported and refuses unsupported capabilities', async () => {
      const vol = await createVolume(h, uniqueName('conf-validate'));
      try {
        const ok = await call(ctl(), 'ValidateVolumeCapabilities', { volume_id: vol.volume_id, volume_capabilities: [mountCap()] });
        expect(ok.confirmed?.volume_capabilities).toHaveLength(1);
        const multi = await status(ctl(), 'ValidateVolumeCapabilities', { volume_id: vol.volume_id, volume_capabilities: [mountCap('ext4', 'MULTI_NODE_MULTI_WRITER')] });
        // Multi-node writers on a file system are not supported: either not confirmed (with a
        // message saying why) or refused as an invalid argument.
        if (multi.code === Code.OK) {
          expect(multi.res?.confirmed ?? null).toBeNull();
          expect(multi.res?.message).toBeTruthy();
        } else {
          expect(multi.code, multi.details).toBe(Code.INVALID_ARGUMENT);
        }
      } finally {
        await discardVolume(h, vol.volume_id);
      }
    });

    conf('CreateVolume: 10 concurrent calls with one name make one volume', async () => {
      const name = uniqueName('conf-race');
      const results = await Promise.all(
        Array.from({ length: REPEAT }, () => call(ctl(), 'CreateVolume', { name, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [mountCap()] })),
      );
      const ids = new Set(results.map((r) => r.volume.volume_id));
      try {
        expect(ids.size).toBe(1);
        expect((await cinderList(h, 'volumes')).filter((v) => v.name === name)).toHaveLength(1);
      } finally {
        for (const id of ids) await call(ctl(), 'DeleteVolume', { volume_id: id });
      }
    });
  });

  describe('group snapshots', () => {
    const gctl = () => h.all.groups;
    conf('GroupControllerGetCapabilities lists the group snapshot RPCs', async () => {
      const caps = await call(gctl(), 'GroupControllerGetCapabilities', {});
      expect((caps.capabilities as any[]).map((c) => c.rpc.type)).toEqual(['CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT']);
      expect((await status(gctl(), 'CreateVolumeGroupSnapshot', { source_volume_ids: ['x'] })).code).toBe(Code.INVALID_ARGUMENT);
      expect((await status(gctl(), 'GetVolumeGroupSnapshot', { group_snapshot_id: '00000000-0000-4000-8000-000000000000' })).code).toBe(Code.NOT_FOUND);
      await call(gctl(), 'DeleteVolumeGroupSnapshot', { group_snapshot_id: '00000000-0000-4000-8000-000000000000' });
    });

    conf('a VolumeGroupSnapshot of two volumes: one Cinder group snapshot for 10 repeats, members restorable and deleted only with it, nothing left', async () => {
      const a = await createVolume(h, uniqueName('conf-vgs-a'), { capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [mountCap()] });
      const b = await createVolume(h, uniqueName('conf-vgs-b'), { capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [mountCap()] });
      const name = uniqueName('conf-vgs');
      const req = { name, source_volume_ids: [a.volume_id, b.volume_id], parameters: { groupType: 'csi-group' } };
      const ids = new Set<string>();
      let gs: any;
      for (let i = 0; i < REPEAT; i++) {
        gs = (await call(gctl(), 'CreateVolumeGroupSnapshot', req)).group_snapshot;
        ids.add(gs.group_snapshot_id);
      }
      expect(ids.size).toBe(1);
      expect(gs.ready_to_use).toBe(true);
      expect((gs.snapshots as any[]).map((s) => s.source_volume_id).sort()).toEqual([a.volume_id, b.volume_id].sort());
      const member = gs.snapshots[0];
      expect(member.group_snapshot_id).toBe(gs.group_snapshot_id);
      expect((await call(gctl(), 'GetVolumeGroupSnapshot', { group_snapshot_id: gs.group_snapshot_id })).group_snapshot).toEqual(gs);
      const restores = [];
      for (const m of gs.snapshots as any[]) {
        const restore = await createVolume(h, uniqueName('conf-vgs-restore'), { capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [mountCap()], volume_content_source: { snapshot: { snapshot_id: m.snapshot_id } } });
        expect(restore.content_source?.snapshot?.snapshot_id).toBe(m.snapshot_id);
        restores.push(restore);
      }
      expect((await status(ctl(), 'DeleteSnapshot', { snapshot_id: member.snapshot_id })).code).toBe(Code.FAILED_PRECONDITION);
      // The members' volumes are in no group: they can be deleted once the group snapshot is.
      for (let i = 0; i < REPEAT; i++) await call(gctl(), 'DeleteVolumeGroupSnapshot', { group_snapshot_id: gs.group_snapshot_id });
      expect((await cinderList(h, 'snapshots')).filter((s) => s.group_snapshot_id)).toEqual([]);
      for (const v of [a, b, ...restores]) await discardVolume(h, v.volume_id);
    });
  });

  describe('coverage', () => {
    conf('every advertised capability is exercised by a passing case, and only those', async () => {
      const plugin = await call(h.all.identity, 'GetPluginCapabilities', {});
      const controller = await call(ctl(), 'ControllerGetCapabilities', {});
      const node = await call(h.nodeA.client, 'NodeGetCapabilities', {});
      const groups = await call(h.all.groups, 'GroupControllerGetCapabilities', {});
      const advertised = [
        ...(groups.capabilities as any[]).map((c) => `group:${c.rpc.type}`),
        ...(plugin.capabilities as any[]).map((c) => (c.service ? `plugin:${c.service.type}` : `expansion:${c.volume_expansion.type}`)),
        ...(controller.capabilities as any[]).map((c) => `controller:${c.rpc.type}`),
        ...(node.capabilities as any[]).map((c) => `node:${c.rpc.type}`),
      ].sort();
      expect(Object.keys(COVERAGE).sort()).toEqual(advertised);
      for (const cap of advertised) {
        const test = COVERAGE[cap]!;
        expect(registered, `${cap} → "${test}" is not a case`).toContain(test);
        expect(passed.has(test), `${cap} → "${test}" did not pass`).toBe(true);
      }
    });

    conf('the suite leaves no mount, loop device, Cinder object or stash behind', async () => {
      expect(await leftovers(h)).toEqual([]);
    });
  });
});
