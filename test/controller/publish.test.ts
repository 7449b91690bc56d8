import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePublishContext } from '../../src/services/publish-context.js';
import { Code } from '../../src/csi/status-codes.js';
import { blockCap, createReq, failure, mountCap, publishReq, stableNode, startHarness, testNode, unpublishReq, type Harness } from './harness.js';

const connector = (host: string) => ({ host, ip: '10.9.9.9', multipath: true, platform: 'x86_64', os_type: 'linux2' });

// As an admin (Cinder shows attachments' host names) and as a project member through Keystone
// (Cinder hides them; the driver's own records must carry the matching); each with the
// volume_context CreateVolume answered, as the CO sends it (a single-attach volume is then
// attached without reading it first), and without one, as for a PV made by hand.
describe.each([
  ['admin, noauth, CreateVolume context', false, true],
  ['member, keystone, CreateVolume context', true, true],
  ['admin, noauth, no context', false, false],
  ['member, keystone, no context', true, false],
])('ControllerPublish / ControllerUnpublish over HTTP (%s)', (_who, keystone, withContext) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ keystone, emulator: { quotas: { volumes: 1000, gigabytes: 100_000 } } });
  });
  afterAll(async () => h.stop());

  let seq = 0;
  const contexts = new Map<string, Record<string, string>>();
  const volume = async (type = 'iscsi', caps = [mountCap()]) => {
    const v = (await h.rpc.CreateVolume(createReq(`pvc-pub-${++seq}`, { parameters: { type }, volume_capabilities: caps }), h.ctx())).volume;
    contexts.set(v?.volume_id ?? '', v?.volume_context ?? {});
    return v?.volume_id ?? '';
  };
  const publish: Harness['rpc']['ControllerPublishVolume'] = (req, ctx) =>
    h.rpc.ControllerPublishVolume(withContext ? { ...req, volume_context: contexts.get(req.volume_id ?? '') ?? {} } : req, ctx);

  describe('error table', () => {
    it('checks required fields, the node id and the volume', async () => {
      const id = await volume();
      const node = testNode();
      const cases: Array<[string, ReturnType<typeof publishReq>, Code]> = [
        ['no volume id', publishReq('', node.id), Code.INVALID_ARGUMENT],
        ['no node id', publishReq(id, ''), Code.INVALID_ARGUMENT],
        ['no capability', publishReq(id, node.id, { volume_capability: null }), Code.INVALID_ARGUMENT],
        ['malformed capability', publishReq(id, node.id, { volume_capability: mountCap('UNKNOWN') }), Code.INVALID_ARGUMENT],
        ['foreign node id', publishReq(id, 'i-0123456789'), Code.NOT_FOUND],
        ['malformed node id', publishReq(id, 'v1;Bad_Name;1.2.3.4;;x'), Code.NOT_FOUND],
        ['missing volume', publishReq('00000000-0000-0000-0000-000000000000', node.id), Code.NOT_FOUND],
        ['volume id not a UUID', publishReq('vol-1', node.id), Code.NOT_FOUND],
        ['MULTI_NODE on a single-attach volume', publishReq(id, node.id, { volume_capability: blockCap('MULTI_NODE_MULTI_WRITER') }), Code.FAILED_PRECONDITION],
      ];
      for (const [what, req, code] of cases) {
        const f = await failure(publish(req, h.ctx()));
        expect(f.code, what).toBe(code);
      }
      expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(0);
      expect((await failure(h.rpc.ControllerUnpublishVolume(unpublishReq('', node.id), h.ctx()))).code).toBe(Code.INVALID_ARGUMENT);
    });
  });

  it('publish and unpublish are idempotent (10 times each), one attachment, without instance_uuid', async () => {
    const id = await volume();
    const node = testNode();
    const contexts = [];
    for (let i = 0; i < 10; i++) contexts.push((await publish(publishReq(id, node.id), h.ctx())).publish_context ?? {});
    const attachmentIds = new Set(contexts.map((c) => c.attachmentId));
    expect(attachmentIds.size).toBe(1);
    const atts = await h.client.listAttachments({ volumeId: id });
    expect(atts).toHaveLength(1);
    expect(atts[0]?.instance).toBeUndefined();
    expect(atts[0]?.status).toBe('attached');
    const vol = await h.client.getVolume(id);
    expect(vol.status).toBe('in-use');
    // CreateVolume retried while the volume is attached still answers with it.
    const again = await h.rpc.CreateVolume(createReq(vol.name ?? '', { parameters: { type: 'iscsi' } }), h.ctx());
    expect(again.volume?.volume_id).toBe(id);
    expect(vol.attachments).toHaveLength(1);
    expect((await h.rpc.ControllerGetVolume({ volume_id: id }, h.ctx())).status?.published_node_ids).toEqual([node.id]);
    for (let i = 0; i < 10; i++) await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
    expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(0);
    expect((await h.client.getVolume(id)).status).toBe('available');
  });

  it('a node that came back with another identity (same name, new key) keeps its attachment until unpublished, then gets one for its new connector', async () => {
    const id = await volume();
    const before = testNode();
    const first = (await publish(publishReq(id, before.id), h.ctx())).publish_context ?? {};
    const after = testNode(before.name); // reinstalled: same node name, new key pair and address
    expect(after.id).not.toBe(before.id);
    // A pod may be using the volume through the existing export: it is not torn down; the
    // answer is sealed to the key the node has now.
    const second = (await publish(publishReq(id, after.id), h.ctx())).publish_context ?? {};
    expect(second.attachmentId).toBe(first.attachmentId);
    expect((await h.client.listAttachments({ volumeId: id })).map((a) => a.id)).toEqual([first.attachmentId]);
    expect(decodePublishContext(second, id, after.keys).connection.type).toBe('iscsi');
    expect(() => decodePublishContext(second, id, before.keys)).toThrow();
    // Once the CO unpublished it, the next publish exports to the new connector.
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, after.id), h.ctx());
    const third = (await publish(publishReq(id, after.id), h.ctx())).publish_context ?? {};
    expect(third.attachmentId).not.toBe(first.attachmentId);
    const made = h.calls.filter((c) => c.method === 'createAttachment').map((c) => (c.args[0] as { connector: { ip: string } }).connector.ip);
    expect(made.at(-1)).toBe(after.id.split(';')[2]);
    expect((await h.rpc.ControllerGetVolume({ volume_id: id }, h.ctx())).status?.published_node_ids).toEqual([after.id]);
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, after.id), h.ctx());
    expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(0);
  });

  describe('a node with a stable (v2) node id and a signed connector record', () => {
    const madeConnectors = () => h.calls.filter((c) => c.method === 'createAttachment').map((c) => (c.args[0] as { connector: Record<string, unknown> }).connector);

    it('takes the connector from the record: address, initiator, multipath as the node said', async () => {
      const id = await volume();
      const node = await stableNode(h.registry, undefined, { ip: '10.2.0.7', initiator: 'iqn.2004-10.com.ubuntu:01:stable', multipath: false, platform: 'aarch64' });
      expect(node.id.startsWith(`v2;${node.name};`)).toBe(true);
      const ctx = (await publish(publishReq(id, node.id), h.ctx())).publish_context ?? {};
      expect(madeConnectors().at(-1)).toEqual({
        initiator: 'iqn.2004-10.com.ubuntu:01:stable',
        ip: '10.2.0.7',
        host: node.name,
        multipath: false,
        platform: 'aarch64',
        os_type: 'linux2',
        do_local_attach: false,
      });
      const conn = decodePublishContext(ctx, id, node.keys.seal).connection;
      expect(conn).toMatchObject({ type: 'iscsi', multipath: false });
      await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
    });

    it('keeps a live attachment when the facts change (new address and initiator); the next publish after unpublish uses them', async () => {
      const id = await volume();
      const node = await stableNode(h.registry, undefined, { ip: '10.2.0.8', initiator: 'iqn.2004-10.com.ubuntu:01:old' });
      const first = (await publish(publishReq(id, node.id), h.ctx())).publish_context ?? {};
      await node.publish({ ip: '10.2.0.9', initiator: 'iqn.2004-10.com.ubuntu:01:new' });
      const again = (await publish(publishReq(id, node.id), h.ctx())).publish_context ?? {};
      expect(again.attachmentId).toBe(first.attachmentId);
      expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(1);
      await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
      const fresh = (await publish(publishReq(id, node.id), h.ctx())).publish_context ?? {};
      expect(fresh.attachmentId).not.toBe(first.attachmentId);
      expect(madeConnectors().at(-1)).toMatchObject({ ip: '10.2.0.9', initiator: 'iqn.2004-10.com.ubuntu:01:new' });
      await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
    });

    it('NOT_FOUND without a record; FAILED_PRECONDITION for a record that is not the node\'s; nothing attached', async () => {
      const id = await volume();
      const node = await stableNode(h.registry);
      const impostor = await stableNode(h.registry, `${node.name}-x`);
      // Someone with write access to the registry puts another key pair's record under the name.
      await h.registry.publish(node.name, (await h.registry.fetch(impostor.name)) ?? '');
      const forged = await failure(publish(publishReq(id, node.id), h.ctx()));
      expect(forged.code).toBe(Code.FAILED_PRECONDITION);
      expect(forged.message).toMatch(/keys do not match the node id/);
      // A record whose text was altered after signing.
      await node.publish({ ip: '10.2.0.10' });
      const wire = JSON.parse((await h.registry.fetch(node.name)) ?? '{}') as { record: string; signature: string };
      await h.registry.publish(node.name, JSON.stringify({ ...wire, record: wire.record.replace('10.2.0.10', '10.6.6.6') }));
      expect((await failure(publish(publishReq(id, node.id), h.ctx()))).message).toMatch(/signature does not verify/);
      const missing = await failure(publish(publishReq(id, `v2;never-started;${'A'.repeat(32)}`), h.ctx()));
      expect(missing.code).toBe(Code.NOT_FOUND);
      expect(missing.message).toMatch(/node never-started has published no connector record/);
      expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(0);
    });
  });

  it('sends the node’s connector: initiator, ip, host, multipath — and no initiator when the node has none', async () => {
    const id = await volume();
    const connectors = () => h.calls.filter((c) => c.method === 'createAttachment').map((c) => (c.args[0] as { connector: Record<string, unknown> }).connector);
    const node = testNode('with-iqn', true);
    const before = connectors().length;
    await publish(publishReq(id, node.id), h.ctx());
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
    const rbdOnly = testNode('without-iqn', false);
    await publish(publishReq(id, rbdOnly.id), h.ctx());
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, rbdOnly.id), h.ctx());
    const [withIqn, withoutIqn] = connectors().slice(before);
    expect(withIqn).toEqual({
      initiator: 'iqn.2004-10.com.ubuntu:01:withiqn',
      ip: expect.stringMatching(/^10\.0\.0\.\d+$/),
      host: 'with-iqn',
      multipath: true,
      platform: 'x86_64',
      os_type: 'linux2',
      do_local_attach: false,
    });
    expect(withoutIqn).toMatchObject({ host: 'without-iqn' });
    expect(withoutIqn && 'initiator' in withoutIqn).toBe(false);
    // And never an instance_uuid: Cinder would consult Nova on delete.
    for (const c of h.calls.filter((x) => x.method === 'createAttachment')) expect(JSON.stringify(c.args)).not.toContain('instance');
  });

  it('a single-writer volume published elsewhere → FAILED_PRECONDITION naming that node', async () => {
    const id = await volume();
    const a = testNode('node-a');
    const b = testNode('node-b');
    await publish(publishReq(id, a.id), h.ctx());
    const f = await failure(publish(publishReq(id, b.id), h.ctx()));
    expect(f.code).toBe(Code.FAILED_PRECONDITION);
    expect(f.message).toContain('node-a');
    expect(f.message).toContain(a.id);
    // B's unpublish must not touch A's attachment.
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, b.id), h.ctx());
    expect((await h.rpc.ControllerGetVolume({ volume_id: id }, h.ctx())).status?.published_node_ids).toEqual([a.id]);
    expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(1);
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, a.id), h.ctx());
    await publish(publishReq(id, b.id), h.ctx());
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, b.id), h.ctx());
  });

  it('a multiattach block volume goes to several nodes; published_node_ids are the CO’s node ids', async () => {
    const cap = blockCap('MULTI_NODE_MULTI_WRITER');
    const id = await volume('multiattach', [cap]);
    const nodes = [testNode(), testNode(), testNode()];
    for (const n of nodes) await publish(publishReq(id, n.id, { volume_capability: cap }), h.ctx());
    // A single-node capability still cannot join a volume published elsewhere.
    expect((await failure(publish(publishReq(id, testNode().id, { volume_capability: blockCap() }), h.ctx()))).code).toBe(
      Code.FAILED_PRECONDITION,
    );
    const got = await h.rpc.ControllerGetVolume({ volume_id: id }, h.ctx());
    expect(got.status?.published_node_ids).toEqual(nodes.map((n) => n.id).sort());
    const listed = await h.rpc.ListVolumes({ max_entries: 0, starting_token: '' }, h.ctx());
    expect(listed.entries?.find((e) => e.volume?.volume_id === id)?.status?.published_node_ids).toEqual(nodes.map((n) => n.id).sort());

    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, nodes[1]?.id ?? ''), h.ctx());
    const after = await h.rpc.ControllerGetVolume({ volume_id: id }, h.ctx());
    expect(after.status?.published_node_ids).toEqual([nodes[0]?.id, nodes[2]?.id].sort());
    // No node id: unpublish from every node.
    await h.rpc.ControllerUnpublishVolume({ volume_id: id, node_id: '', secrets: {} }, h.ctx());
    expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(0);
    expect((await h.rpc.ControllerGetVolume({ volume_id: id }, h.ctx())).status?.published_node_ids).toEqual([]);
  });

  it('cleans crash leftovers (reserved / attaching) before attaching, and reuses nothing of them', async () => {
    const id = await volume();
    const node = testNode();
    const reserved = await h.client.createAttachment({ volumeId: id, connector: {} as never }).catch(() => undefined);
    // A connector-less reserve (what a crash between reserve and update leaves) or, if the
    // client refuses that shape, an attaching one with this node's connector.
    const leftover = reserved ?? (await h.client.createAttachment({ volumeId: id, connector: connector(node.name) }));
    expect(['reserved', 'attaching']).toContain((await h.client.getVolume(id)).status);
    const ctx = (await publish(publishReq(id, node.id), h.ctx())).publish_context ?? {};
    expect(ctx.attachmentId).not.toBe(leftover.id);
    const atts = await h.client.listAttachments({ volumeId: id });
    expect(atts.map((a) => a.id)).toEqual([ctx.attachmentId]);
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
  });

  it('a leftover attaching for this node on a multiattach volume is replaced; other nodes’ completed ones stay', async () => {
    const cap = blockCap('MULTI_NODE_MULTI_WRITER');
    const id = await volume('multiattach', [cap]);
    const other = testNode();
    const node = testNode();
    await publish(publishReq(id, other.id, { volume_capability: cap }), h.ctx());
    const leftover = await h.client.createAttachment({ volumeId: id, connector: connector(node.name) });
    await publish(publishReq(id, node.id, { volume_capability: cap }), h.ctx());
    expect((await h.rpc.ControllerGetVolume({ volume_id: id }, h.ctx())).status?.published_node_ids).toEqual([node.id, other.id].sort());
    expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(2);
    expect((await h.client.listAttachments({ volumeId: id })).map((a) => a.id)).not.toContain(leftover.id);
    await h.rpc.ControllerUnpublishVolume({ volume_id: id, node_id: '', secrets: {} }, h.ctx());
  });

  it('readonly → an ro attachment and ro connection data; asking rw of an ro publish → ALREADY_EXISTS', async () => {
    const id = await volume();
    const node = testNode();
    const res = await publish(publishReq(id, node.id, { readonly: true }), h.ctx());
    const decoded = decodePublishContext(res.publish_context ?? {}, id, node.keys);
    expect(decoded.connection.accessMode).toBe('ro');
    expect((await h.client.listAttachments({ volumeId: id }))[0]?.attachMode).toBe('ro');
    expect((await failure(publish(publishReq(id, node.id), h.ctx()))).code).toBe(Code.ALREADY_EXISTS);
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
  });

  it('an encrypted volume (made outside the driver) is never published: FAILED_PRECONDITION, no attachment left', async () => {
    const made = await h.client.createVolume({ name: `pvc-luks-${++seq}`, size: 1, volumeType: 'iscsi-luks' });
    for (let i = 0; i < 100 && (await h.client.getVolume(made.id)).status !== 'available'; i++) await new Promise((r) => setTimeout(r, 20));
    const f = await failure(h.rpc.ControllerPublishVolume(publishReq(made.id, testNode().id), h.ctx()));
    expect(f.code).toBe(Code.FAILED_PRECONDITION);
    expect(f.message).toMatch(/encrypted/);
    expect(await h.client.listAttachments({ volumeId: made.id })).toEqual([]);
    await h.client.deleteVolume(made.id);
  });

  it('a volume Cinder flags read-only: a rw publish is FAILED_PRECONDITION and leaves no attachment; ro works', async () => {
    const id = await volume();
    await h.client.api.send({ method: 'POST', route: '/volumes/{id}/action', path: `/volumes/${id}/action`, body: { 'os-update_readonly_flag': { readonly: true } } });
    const node = testNode();
    const refused = await failure(publish(publishReq(id, node.id), h.ctx()));
    expect(refused.code).toBe(Code.FAILED_PRECONDITION);
    expect(refused.message).toMatch(/read-only in Cinder/);
    expect(await h.client.listAttachments({ volumeId: id })).toEqual([]);
    const res = await publish(publishReq(id, node.id, { readonly: true }), h.ctx());
    expect(decodePublishContext(res.publish_context ?? {}, id, node.keys).connection.accessMode).toBe('ro');
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
  });

  it('secrets are sealed to the node: only its key opens them; no CHAP password in context, logs or errors', async () => {
    const id = await volume('iscsi-discovery-chap');
    const node = testNode();
    const stranger = testNode();
    const res = await publish(publishReq(id, node.id), h.ctx());
    const ctx = res.publish_context ?? {};
    const [att] = await h.client.listAttachments({ volumeId: id });
    const password = String(att?.connectionInfo.auth_password ?? '');
    const discovery = String(att?.connectionInfo.discovery_auth_password ?? '');
    expect(password.length).toBeGreaterThan(8);
    expect(discovery.length).toBeGreaterThan(8);

    const opened = decodePublishContext(ctx, id, node.keys);
    if (opened.connection.type !== 'iscsi') throw new Error('expected iSCSI');
    expect(opened.connection.auth?.password).toBe(password);
    expect(opened.connection.discoveryAuth?.password).toBe(discovery);
    expect(() => decodePublishContext(ctx, id, stranger.keys)).toThrow(/sealed/);

    const errors: string[] = [];
    errors.push((await failure(publish(publishReq(id, stranger.id), h.ctx()))).message);
    errors.push((await failure(h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx()))).message);
    const again = await publish(publishReq(id, node.id), h.ctx());
    for (const text of [JSON.stringify(ctx), JSON.stringify(again.publish_context), h.logText(), ...errors]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(discovery);
    }
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
  });

  it('unpublish: an unreadable node id or a gone volume is success and touches nothing', async () => {
    const id = await volume();
    const node = testNode();
    await publish(publishReq(id, node.id), h.ctx());
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, 'i-not-ours'), h.ctx());
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, testNode().id), h.ctx());
    expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(1);
    await h.rpc.ControllerUnpublishVolume(unpublishReq('00000000-0000-0000-0000-000000000000', node.id), h.ctx());
    await h.rpc.ControllerUnpublishVolume(unpublishReq('not-a-uuid', node.id), h.ctx());
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
    expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(0);
  });

  it('read-only publish below microversion 3.54 fails FAILED_PRECONDITION, never a writable attachment', async () => {
    const old = await startHarness({ keystone, emulator: { maxMicroversion: '3.50' } });
    try {
      const id = (await old.rpc.CreateVolume(createReq('pvc-old'), old.ctx())).volume?.volume_id ?? '';
      const node = testNode();
      const f = await failure(old.rpc.ControllerPublishVolume(publishReq(id, node.id, { readonly: true }), old.ctx()));
      expect(f.code).toBe(Code.FAILED_PRECONDITION);
      expect(f.message).toMatch(/3\.54/);
      expect(await old.client.listAttachments({ volumeId: id })).toHaveLength(0);
      // rw still works there (mode omitted).
      await old.rpc.ControllerPublishVolume(publishReq(id, node.id), old.ctx());
      await old.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), old.ctx());
    } finally {
      await old.stop();
    }
  });
});

describe('ControllerPublish of a single-attach volume without reading it: whether its targets are shared', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.stop());

  const MULTIATTACH = 'cinder.metal.csi.kungze.io/multiattach';
  const SHARED = 'cinder.metal.csi.kungze.io/shared-targets';
  const reads = () => h.calls.filter((c) => c.method === 'getVolume').length;

  it('comes from the volume_context CreateVolume answered; without it the volume is read, as the node needs it', async () => {
    const v = (await h.rpc.CreateVolume(createReq('pvc-shared-targets', { parameters: { type: 'iscsi' } }), h.ctx())).volume;
    const id = v?.volume_id ?? '';
    // The emulator speaks 3.70: every volume says shared_targets, here false.
    expect(v?.volume_context).toMatchObject({ [MULTIATTACH]: 'false', [SHARED]: 'false' });
    const node = testNode();
    const publishWith = async (volume_context: Record<string, string>) => {
      const before = reads();
      const res = await h.rpc.ControllerPublishVolume(publishReq(id, node.id, { volume_context }), h.ctx());
      const read = reads() > before;
      const conn = decodePublishContext(res.publish_context ?? {}, id, node.keys).connection;
      await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
      return { shared: conn.type === 'iscsi' ? conn.sharedTargets : 'not iSCSI', read };
    };
    expect(await publishWith(v?.volume_context ?? {})).toEqual({ shared: false, read: false });
    // The context is what the attach-first path goes by (a hand-edited one shows it).
    expect(await publishWith({ [MULTIATTACH]: 'false', [SHARED]: 'true' })).toEqual({ shared: true, read: false });
    // A context that does not say (a PV from before the key): the volume is read for it.
    expect(await publishWith({ [MULTIATTACH]: 'false' })).toEqual({ shared: false, read: true });
  });
});
