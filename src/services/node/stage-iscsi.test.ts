import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { MemoryRegistry } from '../../../test/fakes/memory-registry.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectionData, IscsiConnection } from '../../brick/connection-data.js';
import type { AttachedDevice, Connector, Connectors } from '../../brick/connector.js';
import type { Exec } from '../../host/exec.js';
import { silentLogger } from '../../log/logger.js';
import type { RpcContext } from '../../util/context.js';
import { encodePublishContext } from '../publish-context.js';
import { buildNodeHost } from '../../app/node-host.js';
import { nodeRpcs } from '../../csi/node.js';
import type { NodeRpcs } from '../../csi/service-types.js';
import { createNodeService, type NodeService } from './index.js';
import { loadOrCreateNodeKey } from './key-store.js';
import { STASH_FILE } from './stash.js';

/**
 * NodeStage/NodeUnstage of an iSCSI block volume against a scripted connector: no host
 * commands run (block staging only connects), so this runs without root and checks what the
 * real-device tests cannot: CHAP secrets opened for the connector but never stored, identity
 * refusals undone only for what the call connected.
 */
const VOL = '0f9a4c1e-7b7e-4a3c-9f00-2b1c0d8e4f11';
const OTHER = '11111111-2222-4333-8444-555555555555';
const PASSWORD = 'Chap-Pa55word-never-on-disk';

interface Calls {
  connect: ConnectionData[];
  disconnect: ConnectionData[];
}

function fakeConnectors(calls: Calls, opts: { already?: AttachedDevice; device: AttachedDevice }): Connectors {
  const iscsi: Connector<IscsiConnection> = {
    findDevice: () => Promise.resolve(calls.connect.length > 0 ? opts.device : opts.already),
    connect: (conn) => {
      calls.connect.push(structuredClone(conn));
      return Promise.resolve(opts.device);
    },
    disconnect: (conn) => {
      calls.disconnect.push(structuredClone(conn));
      return Promise.resolve();
    },
    extend: () => Promise.resolve(0),
  };
  const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('unexpected connector')) });
  return { iscsi, rbd: unused as Connectors['rbd'], local: unused as Connectors['local'] };
}

const noExec: Exec = { run: (cmd) => Promise.reject(new Error(`no host command expected, got ${cmd}`)) };
const ctx = (): RpcContext => ({ requestId: 't', signal: new AbortController().signal, log: silentLogger() });

let base: string;
let kubelet: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'node-iscsi-'));
  kubelet = join(base, 'kubelet');
  await mkdir(kubelet);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function service(calls: Calls, opts: { already?: AttachedDevice; device: AttachedDevice }): Promise<NodeService> {
  const stateDir = join(base, 'state');
  return createNodeService({
    host: buildNodeHost({
      exec: noExec,
      log: silentLogger(),
      stateDir,
      connectors: fakeConnectors(calls, opts),
      // The host programs of a real node: this test's host need not have iscsiadm.
      programs: { missing: () => Promise.resolve([]) },
    }),
    nodeName: 'n1',
    stateDir,
    kubeletDir: kubelet,
    nodeIp: '10.0.0.7',
    registry: new MemoryRegistry(),
    multipath: 'off',
    iscsiInitiatorFile: join(base, 'no-initiator'),
    log: silentLogger(),
  });
}

function conn(iqn: string): IscsiConnection {
  return {
    type: 'iscsi',
    targets: [{ portal: '10.0.0.1:3260', iqn, lun: 1 }],
    multipath: false,
    auth: { method: 'CHAP', username: 'u', password: PASSWORD },
    accessMode: 'rw',
  };
}

type Handler = (req: unknown, ctx: RpcContext) => Promise<unknown>;
const call = (svc: NodeService, method: string, req: unknown): Promise<unknown> => (nodeRpcs(svc.operations)[method as keyof NodeRpcs] as unknown as Handler)(req, ctx());

async function stageReq(_svc: NodeService, iqn: string) {
  const staging = join(kubelet, 'plugins/kubernetes.io/csi/volumeDevices/staging/pv1');
  // The node's sealing key, as a controller reads it from the node's connector record.
  const publicKey = (await loadOrCreateNodeKey(join(base, 'state'))).publicKey;
  return {
    staging,
    req: {
      volume_id: VOL,
      publish_context: encodePublishContext(conn(iqn), 'att-1', VOL, publicKey),
      staging_target_path: staging,
      volume_capability: { access_type: 'block', block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
      secrets: {},
      volume_context: {},
    },
  };
}

describe('iSCSI stage through a scripted connector', () => {
  it('opens the sealed CHAP password for the connector, never stores it, and unstages from the stash', async () => {
    const calls: Calls = { connect: [], disconnect: [] };
    const svc = await service(calls, { device: { path: '/dev/sdz', wwn: '36001405aaaa' } });
    const { staging, req } = await stageReq(svc, `iqn.2010-10.org.openstack:volume-${VOL}`);
    expect(req.publish_context.connection).not.toContain(PASSWORD);

    await call(svc, 'NodeStageVolume', req);
    expect(calls.connect).toHaveLength(1);
    expect(calls.connect[0]).toMatchObject({ auth: { password: PASSWORD } });
    const stashText = await readFile(join(staging, STASH_FILE), 'utf8');
    expect(stashText).not.toContain(PASSWORD);
    expect(JSON.parse(stashText)).toMatchObject({ volumeId: VOL, device: '/dev/sdz', wwn: '36001405aaaa', accessType: 'block', attachmentId: 'att-1' });

    // A restarted plugin (new service, same state dir) unstages from the stash alone.
    const again = await service(calls, { device: { path: '/dev/sdz' } });
    await call(again, 'NodeUnstageVolume', { volume_id: VOL, staging_target_path: staging });
    expect(calls.disconnect).toHaveLength(1);
    expect(calls.disconnect[0]).toMatchObject({ targets: [{ iqn: `iqn.2010-10.org.openstack:volume-${VOL}` }], auth: { password: '' } });
    expect(await readdir(staging)).toEqual([]);
  });

  it('refuses a target naming another volume and disconnects what it connected', async () => {
    const calls: Calls = { connect: [], disconnect: [] };
    const svc = await service(calls, { device: { path: '/dev/sdz' } });
    const { staging, req } = await stageReq(svc, `iqn.2010-10.org.openstack:volume-${OTHER}`);
    await expect(call(svc, 'NodeStageVolume', req)).rejects.toMatchObject({ kind: 'precondition', message: expect.stringContaining(OTHER) });
    expect(calls.connect).toHaveLength(1);
    expect(calls.disconnect).toHaveLength(1);
    expect(await readdir(staging)).toEqual([]);
  });

  it('refuses it too when the device was already connected, but leaves that device alone', async () => {
    const calls: Calls = { connect: [], disconnect: [] };
    const svc = await service(calls, { already: { path: '/dev/sdz' }, device: { path: '/dev/sdz' } });
    const { req } = await stageReq(svc, `iqn.2010-10.org.openstack:volume-${OTHER}`);
    await expect(call(svc, 'NodeStageVolume', req)).rejects.toMatchObject({ kind: 'precondition' });
    expect(calls.connect).toHaveLength(0);
    expect(calls.disconnect).toHaveLength(0);
  });

  it('refuses a publish_context sealed to another node', async () => {
    const calls: Calls = { connect: [], disconnect: [] };
    const svc = await service(calls, { device: { path: '/dev/sdz' } });
    const { req } = await stageReq(svc, `iqn.2010-10.org.openstack:volume-${VOL}`);
    const { generateNodeKeyPair } = await import('../../util/seal.js');
    req.publish_context = encodePublishContext(conn(`iqn.2010-10.org.openstack:volume-${VOL}`), 'a', VOL, generateNodeKeyPair().publicKey);
    await expect(call(svc, 'NodeStageVolume', req)).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(/another node/) });
    expect(calls.connect).toHaveLength(0);
  });

  it('keeps the progress when the caller gave up (deadline): no undo, the retry continues', async () => {
    const calls: Calls = { connect: [], disconnect: [] };
    const svc = await service(calls, { device: { path: '/dev/sdz' } });
    const { req } = await stageReq(svc, `iqn.2010-10.org.openstack:volume-${OTHER}`);
    const ac = new AbortController();
    ac.abort(new Error('deadline'));
    const handler = nodeRpcs(svc.operations).NodeStageVolume as unknown as Handler;
    await expect(handler(req, { requestId: 't', signal: ac.signal, log: silentLogger() })).rejects.toMatchObject({ kind: 'precondition' });
    expect(calls.disconnect).toHaveLength(0);
  });
});
