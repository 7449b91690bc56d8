import { randomBytes } from 'node:crypto';
import { MemoryRegistry } from '../fakes/memory-registry.js';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpCinderClient } from '../../src/cinder/client.js';
import type { CinderClientConfig } from '../../src/cinder/config.js';
import { isUnauthorized } from '../../src/cinder/errors.js';
import { createControllerWaiters } from '../../src/cinder/waiters.js';
import type { ControllerPublishVolumeRequest__Output } from '../../src/generated/csi/v1/ControllerPublishVolumeRequest.js';
import type { ControllerPublishVolumeResponse } from '../../src/generated/csi/v1/ControllerPublishVolumeResponse.js';
import type { ControllerUnpublishVolumeRequest__Output } from '../../src/generated/csi/v1/ControllerUnpublishVolumeRequest.js';
import type { CreateVolumeRequest__Output } from '../../src/generated/csi/v1/CreateVolumeRequest.js';
import type { CreateVolumeResponse } from '../../src/generated/csi/v1/CreateVolumeResponse.js';
import type { DeleteVolumeRequest__Output } from '../../src/generated/csi/v1/DeleteVolumeRequest.js';
import type { VolumeCapability__Output } from '../../src/generated/csi/v1/VolumeCapability.js';
import type { Logger } from '../../src/log/logger.js';
import { controllerRpcs } from '../../src/csi/controller.js';
import { groupControllerRpcs } from '../../src/csi/group-controller.js';
import { mapError } from '../../src/csi/error-map.js';
import { Code } from '../../src/csi/status-codes.js';
import { createControllerOperations } from '../../src/services/controller/index.js';
import { formatNodeId } from '../../src/services/node-id.js';
import { decodePublishContext } from '../../src/services/publish-context.js';
import type { RpcContext } from '../../src/util/context.js';
import { generateNodeKeyPair } from '../../src/util/seal.js';
import { capturingLogger } from '../helpers/log-capture.js';
import { realCinderEnvOrNote, type RealCinderEnv } from './env.js';
import { readCapacity } from './iscsi.js';
import { rawCinder, tierVar, type RawCinder } from './raw.js';

/**
 * The real-Cinder tier: the driver against a REAL Cinder (Debian's packages, OpenStack Zed) and,
 * with --keystone, a real Keystone, brought up by test/real-cinder/up.sh (or ci-tier.sh). The
 * harness's file-backed volume driver exports attached volumes through a userspace tgtd with CHAP,
 * so the proof of a publish is target-side: a userspace initiator logs in with what the node got.
 *
 * Skipped (one line on the console) unless REAL_CINDER_ENV names the harness's env file.
 */
const env = realCinderEnvOrNote();

const GiB = 1024 ** 3;
const NODE = 'test-node';
const INITIATOR = 'iqn.2026-11.io.kungze:test-node';
const T = 120_000; // per test: real services on a busy CI machine

function writeAtSync(path: string, offset: number, data: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

function readAtSync(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

function need(): RealCinderEnv {
  if (!env) throw new Error('real-Cinder env missing');
  return env;
}

/** Everything secret this run has seen; none may appear in the driver's logs. */
const secrets = new Map<string, string>();
function noteSecret(what: string, value: string | undefined): void {
  if (value && value.length >= 6) secrets.set(what, value);
}

const capture = capturingLogger('trace');

function ctx(log: Logger, timeoutMs = 60_000): RpcContext {
  return { requestId: `real-${randomBytes(4).toString('hex')}`, signal: AbortSignal.timeout(timeoutMs), deadline: Date.now() + timeoutMs, log };
}

function clientConfig(e: RealCinderEnv, auth: 'appcred' | 'password' = 'appcred'): CinderClientConfig {
  if (e.mode === 'noauth') return { authStrategy: 'noauth', cinderEndpoint: tierVar(e, 'ENDPOINT', 'CINDER_ENDPOINT') };
  const common = { authStrategy: 'keystone' as const, authUrl: e.get('OS_AUTH_URL'), region: e.get('OS_REGION_NAME'), interface: 'public' as const };
  if (auth === 'appcred') {
    return {
      ...common,
      applicationCredentialId: tierVar(e, 'APPLICATION_CREDENTIAL_ID', 'OS_APPLICATION_CREDENTIAL_ID'),
      applicationCredentialSecret: tierVar(e, 'APPLICATION_CREDENTIAL_SECRET', 'OS_APPLICATION_CREDENTIAL_SECRET'),
    };
  }
  return {
    ...common,
    username: tierVar(e, 'USERNAME', 'OS_USERNAME'),
    password: tierVar(e, 'PASSWORD', 'OS_PASSWORD'),
    userDomainName: e.get('OS_USER_DOMAIN_NAME'),
    projectName: tierVar(e, 'PROJECT_NAME', 'OS_PROJECT_NAME'),
    projectDomainName: e.get('OS_PROJECT_DOMAIN_NAME'),
  };
}

function mountCap(): VolumeCapability__Output {
  return {
    mount: { fs_type: 'ext4', mount_flags: [], volume_mount_group: '' },
    block: null,
    access_mode: { mode: 'SINGLE_NODE_WRITER' },
    access_type: 'mount',
  };
}

type H<Req, Res> = (req: Req, ctx: RpcContext) => Promise<Res>;
interface Rpcs {
  CreateVolume: H<CreateVolumeRequest__Output, CreateVolumeResponse>;
  DeleteVolume: H<DeleteVolumeRequest__Output, object>;
  ControllerPublishVolume: H<ControllerPublishVolumeRequest__Output, ControllerPublishVolumeResponse>;
  ControllerUnpublishVolume: H<ControllerUnpublishVolumeRequest__Output, object>;
}

/** The controller's RPCs over a client of the real Cinder, as a cluster of its own. */
function controllerOver(c: HttpCinderClient, log: Logger): ReturnType<typeof controllerRpcs> & ReturnType<typeof groupControllerRpcs> {
  const operations = createControllerOperations({
    cinder: c,
    waiter: createControllerWaiters(c, { log }),
    clusterId: `real-tier-${randomBytes(3).toString('hex')}`,
    registry: new MemoryRegistry(),
    ignoreVolumeAz: true,
    log,
  });
  return { ...controllerRpcs(operations), ...groupControllerRpcs(operations) };
}

describe.skipIf(!env)(`real Cinder tier (${env?.mode ?? 'off'}; harness test/real-cinder)`, () => {
  let raw: RawCinder;
  let client: HttpCinderClient | undefined;
  const volumes = new Set<string>();
  const attachments = new Set<string>();

  beforeAll(async () => {
    const e = need();
    for (const name of [
      'OS_PASSWORD',
      'OS_APPLICATION_CREDENTIAL_SECRET',
      'KEYSTONE_ADMIN_PASSWORD',
      'CINDER_SERVICE_PASSWORD',
      'REAL_TIER_PASSWORD',
      'REAL_TIER_APPLICATION_CREDENTIAL_SECRET',
    ]) {
      noteSecret(name, e.opt(name));
    }
    raw = await rawCinder(e);
  }, T);

  afterAll(async () => {
    // Best effort: whatever a failed test left behind on the shared harness.
    if (!raw) return;
    const left: string[] = [];
    for (const v of volumes) {
      const listed = await raw.call('GET', `/attachments?volume_id=${v}`).catch(() => undefined);
      for (const a of (listed?.body?.attachments ?? []) as { id: string }[]) attachments.add(a.id);
    }
    for (const a of attachments) {
      const r = await raw.call('DELETE', `/attachments/${a}`).catch(() => undefined);
      if (r && r.status !== 200 && r.status !== 404) left.push(`attachment ${a} (DELETE → ${r.status})`);
    }
    for (const v of volumes) {
      await raw.waitFor('volume', v, 'available', 20_000).catch(() => undefined);
      const r = await raw.call('DELETE', `/volumes/${v}`).catch(() => undefined);
      if (!r || (r.status !== 202 && r.status !== 404)) left.push(`volume ${v} (DELETE → ${r?.status ?? 'error'})`);
    }
    if (left.length) console.log(`real-Cinder tier: could not clean up ${left.join(', ')}`);
    client?.close();
  }, T);

  it(
    'raw API: attachment without instance_uuid exports a real tgtd target; CHAP login reads the size, a wrong password is refused; delete → 200',
    async () => {
      const e = need();
      const type = e.get('CINDER_VOLUME_TYPE');
      const created = await raw.call('POST', '/volumes', { volume: { size: 1, name: `real-tier-raw-${randomBytes(3).toString('hex')}`, volume_type: type } });
      expect(created.status).toBe(202);
      const volumeId = created.body.volume.id as string;
      volumes.add(volumeId);
      const vol = await raw.waitFor('volume', volumeId, 'available');
      expect(vol.volume_type).toBe(type);

      const connector = { initiator: INITIATOR, ip: '127.0.0.1', host: NODE, multipath: false, platform: 'x86_64', os_type: 'linux2' };
      const att = await raw.call('POST', '/attachments', { attachment: { volume_uuid: volumeId, connector } });
      expect(att.status).toBe(200);
      const attachmentId = att.body.attachment.id as string;
      attachments.add(attachmentId);
      expect(att.body.attachment.instance).toBeNull();
      const ci = att.body.attachment.connection_info as Record<string, any>;
      expect(ci.driver_volume_type).toBe('iscsi');
      expect(ci.auth_method).toBe('CHAP');
      noteSecret('CHAP password (raw attachment)', ci.auth_password);
      expect(ci.target_portal).toBe(e.get('ISCSI_PORTAL'));
      expect(ci.target_iqn).toContain(volumeId);

      const complete = await raw.call('POST', `/attachments/${attachmentId}/action`, { 'os-complete': null });
      expect(complete.status).toBe(204);
      await raw.waitFor('volume', volumeId, 'in-use');

      const target = { portal: ci.target_portal as string, iqn: ci.target_iqn as string, lun: ci.target_lun as number, initiator: INITIATOR, username: ci.auth_username as string };
      const good = await readCapacity({ ...target, password: ci.auth_password as string });
      expect(good.ok, `login with the connection_info's CHAP credentials failed: ${good.stderr}`).toBe(true);
      expect(good.bytes).toBe(1 * GiB);
      const bad = await readCapacity({ ...target, password: `wrong-${ci.auth_password as string}` });
      expect(bad.ok).toBe(false);
      expect(bad.stderr).toMatch(/auth/i);
      const none = await readCapacity({ ...target, username: undefined });
      expect(none.ok).toBe(false);

      const del = await raw.call('DELETE', `/attachments/${attachmentId}`);
      expect(del.status).toBe(200);
      attachments.delete(attachmentId);
      await raw.waitFor('volume', volumeId, 'available');
      // detaching removed the export: the same credentials no longer reach a target
      expect((await readCapacity({ ...target, password: ci.auth_password as string })).ok).toBe(false);

      expect((await raw.call('DELETE', `/volumes/${volumeId}`)).status).toBe(202);
      await raw.waitFor('volume', volumeId, 'gone');
      volumes.delete(volumeId);
    },
    T,
  );

  it(
    'publish: CreateVolume → ControllerPublishVolume → the node-side view (sealed fields opened with the node key) logs in to the real tgtd target → Unpublish → DeleteVolume',
    async () => {
      const e = need();
      const log = capture.log;
      const c = new HttpCinderClient(clientConfig(e), { log });
      client = c;
      const rpc = controllerOver(c, log) as unknown as Rpcs;

      const name = `pvc-real-tier-${randomBytes(4).toString('hex')}`;
      const cv = await rpc.CreateVolume(
        {
          name,
          capacity_range: { required_bytes: String(GiB), limit_bytes: '0' },
          volume_capabilities: [mountCap()],
          parameters: { type: e.get('CINDER_VOLUME_TYPE') },
          secrets: {},
          volume_content_source: null,
          accessibility_requirements: null,
          mutable_parameters: {},
        } as CreateVolumeRequest__Output,
        ctx(log),
      );
      const volumeId = cv.volume?.volume_id as string;
      expect(volumeId).toMatch(/^[0-9a-f-]{36}$/);
      volumes.add(volumeId);
      expect(Number(cv.volume?.capacity_bytes)).toBe(GiB);
      const session = await c.auth.session();
      if (e.mode === 'keystone') noteSecret('keystone token of the driver', session.token);

      const nodeKey = generateNodeKeyPair();
      const nodeId = formatNodeId({ nodeName: NODE, ip: '127.0.0.1', iqn: INITIATOR, publicKey: nodeKey.publicKey });
      const pub = await rpc.ControllerPublishVolume(
        { volume_id: volumeId, node_id: nodeId, volume_capability: mountCap(), readonly: false, secrets: {}, volume_context: {} },
        ctx(log),
      );
      const publishContext = pub.publish_context ?? {};
      const listed = await raw.call('GET', `/attachments?volume_id=${volumeId}`);
      for (const a of (listed.body?.attachments ?? []) as { id: string }[]) attachments.add(a.id);

      // What Cinder recorded: an attachment without instance_uuid, for our connector, completed.
      const vol = await raw.waitFor('volume', volumeId, 'in-use');
      expect(vol.attachments).toHaveLength(1);
      // Cinder shows attachments[].host_name to admins only (noauth contexts are admin; a keystone
      // member — the driver's normal credentials — sees null).
      if (e.mode === 'noauth') expect(vol.attachments[0].host_name).toBe(NODE);
      else expect(vol.attachments[0].host_name, 'Cinder now shows host_name to a non-admin').toBeNull();
      const attachmentId = vol.attachments[0].attachment_id as string;
      attachments.add(attachmentId);
      const att = await raw.call('GET', `/attachments/${attachmentId}`);
      expect(att.status).toBe(200);
      expect(att.body.attachment.instance).toBeNull();
      const serverSide = att.body.attachment.connection_info as Record<string, any>;
      noteSecret('CHAP password (controller attachment)', serverSide.auth_password);

      // The node's view: the readable part plus the sealed secrets opened with the node key.
      const decoded = decodePublishContext(publishContext, volumeId, nodeKey);
      expect(decoded.attachmentId).toBe(attachmentId);
      const conn = decoded.connection;
      if (conn.type !== 'iscsi') throw new Error(`expected an iscsi connection, got ${conn.type}`);
      expect(conn.auth?.method).toBe('CHAP');
      const password = conn.auth?.password ?? '';
      expect(password).toBe(serverSide.auth_password);
      // ... and what Kubernetes stores (VolumeAttachment status) does not carry it in clear
      expect(JSON.stringify(publishContext)).not.toContain(password);
      // sealed to this node: another node's key cannot open it
      expect(() => decodePublishContext(publishContext, volumeId, generateNodeKeyPair())).toThrow(/sealed/);

      const t = conn.targets[0];
      if (!t) throw new Error('no iSCSI target in the publish context');
      expect(t.portal).toBe(e.get('ISCSI_PORTAL'));
      expect(t.iqn).toContain(volumeId);
      const target = { portal: t.portal, iqn: t.iqn, lun: t.lun, initiator: INITIATOR, username: conn.auth?.username ?? '' };
      const good = await readCapacity({ ...target, password });
      expect(good.ok, `login with the node-side CHAP credentials failed: ${good.stderr}`).toBe(true);
      expect(good.bytes).toBe(Number(cv.volume?.capacity_bytes));
      const bad = await readCapacity({ ...target, password: `${password}-wrong` });
      expect(bad.ok).toBe(false);
      expect(bad.stderr).toMatch(/auth/i);

      await rpc.ControllerUnpublishVolume({ volume_id: volumeId, node_id: nodeId, secrets: {} }, ctx(log));
      expect(
        (await raw.call('GET', `/attachments/${attachmentId}`)).status,
        `ControllerUnpublishVolume left attachment ${attachmentId} of node ${NODE} in place`,
      ).toBe(404);
      attachments.delete(attachmentId);
      const after = await raw.waitFor('volume', volumeId, 'available');
      expect(after.attachments).toEqual([]);
      expect((await readCapacity({ ...target, password })).ok).toBe(false);

      await rpc.DeleteVolume({ volume_id: volumeId, secrets: {} }, ctx(log));
      await raw.waitFor('volume', volumeId, 'gone');
      volumes.delete(volumeId);
    },
    T,
  );

  it.runIf(env?.mode === 'keystone')(
    'keystone: password auth (user, domains, project) reaches the same project; a wrong application credential secret is refused without being logged',
    async () => {
      const e = need();
      const log = capture.log;
      const pw = new HttpCinderClient(clientConfig(e, 'password'), { log });
      try {
        const types = await pw.listVolumeTypes(ctx(log));
        expect(types.map((x) => x.name)).toContain(e.get('CINDER_VOLUME_TYPE'));
        expect((await pw.auth.session()).projectId).toBe(tierVar(e, 'PROJECT_ID', 'OS_PROJECT_ID'));
        noteSecret('keystone token (password auth)', (await pw.auth.session()).token);
      } finally {
        pw.close();
      }
      const planted = `Planted-Wrong-Secret-${randomBytes(6).toString('hex')}`;
      noteSecret('planted wrong secret', planted);
      const wrong = new HttpCinderClient(
        { ...clientConfig(e, 'appcred'), applicationCredentialSecret: planted },
        { log, retry: { maxAttempts: 1 } },
      );
      try {
        const err = await wrong.listVolumeTypes(ctx(log)).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(err, 'a wrong application credential secret was accepted').toBeDefined();
        expect(isUnauthorized(err) || String(err).includes('401')).toBe(true);
      } finally {
        wrong.close();
      }
    },
    T,
  );

  it(
    'snapshots: CreateSnapshot → GetSnapshot and ListSnapshots by id agree, ready → DeleteSnapshot → GetSnapshot NOT_FOUND',
    async () => {
      const e = need();
      const log = capture.log;
      const c = new HttpCinderClient(clientConfig(e), { log });
      const rpc = controllerOver(c, log) as unknown as Record<string, H<unknown, any>>;
      try {
        const cv = await rpc.CreateVolume!(
          { name: `pvc-real-snap-${randomBytes(4).toString('hex')}`, capacity_range: { required_bytes: String(GiB), limit_bytes: '0' }, volume_capabilities: [mountCap()], parameters: { type: e.get('CINDER_VOLUME_TYPE') } },
          ctx(log),
        );
        const volumeId = cv.volume.volume_id as string;
        volumes.add(volumeId);
        const cut = await rpc.CreateSnapshot!({ name: `snap-real-${randomBytes(4).toString('hex')}`, source_volume_id: volumeId, parameters: {} }, ctx(log));
        const snapshotId = cut.snapshot.snapshot_id as string;
        try {
          const got = await rpc.GetSnapshot!({ snapshot_id: snapshotId }, ctx(log));
          const listed = await rpc.ListSnapshots!({ snapshot_id: snapshotId, max_entries: 0, starting_token: '', source_volume_id: '' }, ctx(log));
          expect(got.snapshot).toEqual(listed.entries[0].snapshot);
          expect(got.snapshot).toMatchObject({ snapshot_id: snapshotId, source_volume_id: volumeId, size_bytes: String(GiB) });
          expect(got.snapshot.ready_to_use).toBe(cut.snapshot.ready_to_use);
        } finally {
          await rpc.DeleteSnapshot!({ snapshot_id: snapshotId }, ctx(log));
        }
        const gone = await rpc.GetSnapshot!({ snapshot_id: snapshotId }, ctx(log)).then(
          () => 'found',
          (err: unknown) => mapError(err).code,
        );
        expect(gone).toBe(Code.NOT_FOUND);
        await rpc.DeleteVolume!({ volume_id: volumeId }, ctx(log));
      } finally {
        c.close();
      }
    },
    T,
  );

  it(
    'backups as snapshots: a type-backup snapshot is a Cinder backup; it restores into a larger volume with the data as of the backup, after its volume is deleted',
    async (t) => {
      const e = need();
      const dir = e.opt('CINDER_FILE_VOLUME_DIR');
      if (e.opt('CINDER_BACKUP_SERVICE') !== '1' || !dir) t.skip();
      const log = capture.log;
      const c = new HttpCinderClient(clientConfig(e), { log });
      const rpc = controllerOver(c, log) as unknown as Record<string, H<unknown, any>>;
      const file = (id: string) => join(dir ?? '', `volume-${id}`);
      // As the sidecars do: a call that is not done yet (ABORTED, or ready_to_use false) is asked again.
      const until = async <R>(call: () => Promise<R>, done: (r: R) => boolean): Promise<R> => {
        for (const stop = Date.now() + 100_000; ; ) {
          const r = await call().catch((err: unknown) => {
            if (mapError(err).code !== Code.ABORTED || Date.now() > stop) throw err;
            return undefined;
          });
          if (r !== undefined && done(r)) return r;
          if (Date.now() > stop) throw new Error('not done in time');
          await new Promise((res) => setTimeout(res, 1000));
        }
      };
      try {
        const cv = await rpc.CreateVolume!(
          { name: `pvc-real-bk-${randomBytes(4).toString('hex')}`, capacity_range: { required_bytes: String(GiB), limit_bytes: '0' }, volume_capabilities: [mountCap()], parameters: { type: e.get('CINDER_VOLUME_TYPE') } },
          ctx(log),
        );
        const sourceId = cv.volume.volume_id as string;
        volumes.add(sourceId);
        const head = Buffer.from(`written before the backup ${randomBytes(8).toString('hex')}`);
        const tail = randomBytes(4096);
        writeAtSync(file(sourceId), 0, head);
        writeAtSync(file(sourceId), 700 * 1024 * 1024, tail);

        const name = `snap-real-bk-${randomBytes(4).toString('hex')}`;
        const cut = await until(
          () => rpc.CreateSnapshot!({ name, source_volume_id: sourceId, parameters: { type: 'backup' } }, ctx(log)),
          (r: any) => r.snapshot.ready_to_use === true,
        );
        const snapshotId = cut.snapshot.snapshot_id as string;
        expect(snapshotId).toMatch(/^backup:[0-9a-f-]{36}$/);
        expect(cut.snapshot).toMatchObject({ source_volume_id: sourceId, size_bytes: String(GiB) });
        writeAtSync(file(sourceId), 0, Buffer.from('CHANGED AFTER THE BACKUP'));
        // The backup does not depend on its volume.
        await until(() => rpc.DeleteVolume!({ volume_id: sourceId }, ctx(log)), () => true);
        volumes.delete(sourceId);

        const restoredName = `pvc-real-bk-restored-${randomBytes(4).toString('hex')}`;
        const restore = () =>
          rpc.CreateVolume!(
            {
              name: restoredName,
              capacity_range: { required_bytes: String(2 * GiB), limit_bytes: '0' },
              volume_capabilities: [mountCap()],
              parameters: { type: e.get('CINDER_VOLUME_TYPE') },
              volume_content_source: { type: 'snapshot', snapshot: { snapshot_id: snapshotId } },
            },
            ctx(log),
          );
        const rv = await until(restore, () => true);
        const restoredId = rv.volume.volume_id as string;
        volumes.add(restoredId);
        expect(rv.volume).toMatchObject({ capacity_bytes: String(2 * GiB), content_source: { snapshot: { snapshot_id: snapshotId } } });
        expect(readAtSync(file(restoredId), 0, head.length)).toEqual(head);
        expect(readAtSync(file(restoredId), 700 * 1024 * 1024, tail.length)).toEqual(tail);
        expect(statSync(file(restoredId)).size).toBe(2 * GiB);

        const got = await rpc.GetSnapshot!({ snapshot_id: snapshotId }, ctx(log));
        expect(got.snapshot).toMatchObject({ snapshot_id: snapshotId, ready_to_use: true });
        const listed = await rpc.ListSnapshots!({ snapshot_id: '', max_entries: 0, starting_token: '', source_volume_id: sourceId }, ctx(log));
        expect(listed.entries.map((x: any) => x.snapshot.snapshot_id)).toEqual([snapshotId]);

        await until(() => rpc.DeleteSnapshot!({ snapshot_id: snapshotId }, ctx(log)), () => true);
        const gone = await rpc.GetSnapshot!({ snapshot_id: snapshotId }, ctx(log)).then(
          () => 'found',
          (err: unknown) => mapError(err).code,
        );
        expect(gone).toBe(Code.NOT_FOUND);
        await until(() => rpc.DeleteVolume!({ volume_id: restoredId }, ctx(log)), () => true);
        volumes.delete(restoredId);
      } finally {
        c.close();
      }
    },
    240_000,
  );

  it(
    'volume group snapshots: two volumes (one attached) cut together, each member restored, everything deleted with nothing left in Cinder',
    async (t) => {
      const e = need();
      const groupType = e.opt('CINDER_GROUP_TYPE');
      if (!groupType) t.skip();
      const log = capture.log;
      const c = new HttpCinderClient(clientConfig(e), { log });
      const rpc = controllerOver(c, log) as unknown as Record<string, H<unknown, any>>;
      try {
        const ids: string[] = [];
        for (const n of ['a', 'b']) {
          const cv = await rpc.CreateVolume!(
            { name: `pvc-real-vgs-${n}-${randomBytes(4).toString('hex')}`, capacity_range: { required_bytes: String(GiB), limit_bytes: '0' }, volume_capabilities: [mountCap()], parameters: { type: e.get('CINDER_VOLUME_TYPE') } },
            ctx(log),
          );
          ids.push(cv.volume.volume_id as string);
          volumes.add(cv.volume.volume_id as string);
        }
        const nodeId = formatNodeId({ nodeName: NODE, ip: '127.0.0.1', iqn: INITIATOR, publicKey: generateNodeKeyPair().publicKey });
        await rpc.ControllerPublishVolume!({ volume_id: ids[1], node_id: nodeId, volume_capability: mountCap(), readonly: false, volume_context: {} }, ctx(log));
        const name = `vgs-real-${randomBytes(4).toString('hex')}`;
        const req = { name, source_volume_ids: ids, parameters: { groupType } };
        const first = await rpc.CreateVolumeGroupSnapshot!(req, ctx(log));
        const gs = first.group_snapshot;
        expect(gs.ready_to_use).toBe(true);
        expect((gs.snapshots as any[]).map((s) => s.source_volume_id).sort()).toEqual([...ids].sort());
        expect((await rpc.CreateVolumeGroupSnapshot!(req, ctx(log))).group_snapshot.group_snapshot_id).toBe(gs.group_snapshot_id);
        // The volumes left the transient group at once: the attached one detaches, both could be deleted.
        for (const id of ids) expect((await c.getVolume(id)).groupId).toBeUndefined();
        // Each member restores like any snapshot.
        const restoredIds: string[] = [];
        for (const member of gs.snapshots as any[]) {
          const restored = await rpc.CreateVolume!(
            {
              name: `pvc-real-vgs-r-${randomBytes(4).toString('hex')}`,
              capacity_range: { required_bytes: String(GiB), limit_bytes: '0' },
              volume_capabilities: [mountCap()],
              parameters: { type: e.get('CINDER_VOLUME_TYPE') },
              volume_content_source: { type: 'snapshot', snapshot: { snapshot_id: member.snapshot_id } },
            },
            ctx(log),
          );
          restoredIds.push(restored.volume.volume_id as string);
          volumes.add(restored.volume.volume_id as string);
          expect(restored.volume.content_source.snapshot.snapshot_id).toBe(member.snapshot_id);
        }
        const refused = await rpc.DeleteSnapshot!({ snapshot_id: gs.snapshots[0].snapshot_id }, ctx(log)).then(() => Code.OK, (err: unknown) => mapError(err).code);
        expect(refused).toBe(Code.FAILED_PRECONDITION);

        await rpc.DeleteVolumeGroupSnapshot!({ group_snapshot_id: gs.group_snapshot_id, snapshot_ids: [] }, ctx(log));
        await rpc.DeleteVolumeGroupSnapshot!({ group_snapshot_id: gs.group_snapshot_id, snapshot_ids: [] }, ctx(log));
        const gone = await rpc.GetVolumeGroupSnapshot!({ group_snapshot_id: gs.group_snapshot_id }, ctx(log)).then(() => Code.OK, (err: unknown) => mapError(err).code);
        expect(gone).toBe(Code.NOT_FOUND);
        expect((await c.listAllGroups()).filter((g) => g.name === name || g.name === `vgs-${gs.group_snapshot_id}`)).toEqual([]);
        expect((await c.listAllSnapshots()).filter((s) => s.groupSnapshotId === gs.group_snapshot_id)).toEqual([]);
        await rpc.ControllerUnpublishVolume!({ volume_id: ids[1], node_id: nodeId }, ctx(log));
        for (const id of [...ids, ...restoredIds]) {
          await rpc.DeleteVolume!({ volume_id: id }, ctx(log));
          volumes.delete(id);
        }
      } finally {
        c.close();
      }
    },
    T,
  );

  it(
    'ModifyVolume: an attached volume is retyped in place (same extra specs) and never migrated; a detached one needs migrationPolicy on-demand',
    async (t) => {
      const e = need();
      const same = e.opt('CINDER_RETYPE_SAME_SPECS_TYPE') ?? '';
      const other = e.opt('CINDER_RETYPE_OTHER_SPECS_TYPE') ?? '';
      if (!same || !other) t.skip();
      const log = capture.log;
      const c = new HttpCinderClient(clientConfig(e), { log });
      const rpc = controllerOver(c, log) as unknown as Record<string, H<unknown, any>>;
      const failure = (p: Promise<unknown>) => p.then(() => ({ code: Code.OK, message: '' }), (err: unknown) => mapError(err));
      try {
        const cv = await rpc.CreateVolume!(
          { name: `pvc-real-mod-${randomBytes(4).toString('hex')}`, capacity_range: { required_bytes: String(GiB), limit_bytes: '0' }, volume_capabilities: [mountCap()], parameters: { type: e.get('CINDER_VOLUME_TYPE') } },
          ctx(log),
        );
        const volumeId = cv.volume.volume_id as string;
        volumes.add(volumeId);
        const nodeId = formatNodeId({ nodeName: NODE, ip: '127.0.0.1', iqn: INITIATOR, publicKey: generateNodeKeyPair().publicKey });
        await rpc.ControllerPublishVolume!({ volume_id: volumeId, node_id: nodeId, volume_capability: mountCap(), readonly: false, volume_context: {} }, ctx(log));
        const modify = (mutable: Record<string, string>) => rpc.ControllerModifyVolume!({ volume_id: volumeId, mutable_parameters: mutable }, ctx(log));

        expect(await modify({ type: same })).toEqual({});
        expect((await raw.waitFor('volume', volumeId, 'in-use')).volume_type).toBe(same);
        const attached = await failure(modify({ type: other, migrationPolicy: 'on-demand' }));
        expect(attached.code).toBe(Code.FAILED_PRECONDITION);
        expect(attached.message).toMatch(/attached volume is never migrated/);
        expect((await raw.waitFor('volume', volumeId, 'in-use')).volume_type).toBe(same);

        await rpc.ControllerUnpublishVolume!({ volume_id: volumeId, node_id: nodeId }, ctx(log));
        const detached = await failure(modify({ type: other }));
        expect(detached.code).toBe(Code.FAILED_PRECONDITION);
        expect(detached.message).toMatch(/migrationPolicy: on-demand/);
        expect((await raw.waitFor('volume', volumeId, 'available')).volume_type).toBe(same);
        await rpc.DeleteVolume!({ volume_id: volumeId }, ctx(log));
      } finally {
        c.close();
      }
    },
    T,
  );

  it('no secret in any log: passwords, the application credential secret, tokens and CHAP passwords are absent from the driver logs', () => {
    const e = need();
    const text = capture.text();
    expect(capture.lines.length, 'the driver logged nothing: the check would prove nothing').toBeGreaterThan(0);
    expect([...secrets.keys()].some((k) => k.startsWith('CHAP')), 'no CHAP password was seen (run the whole file)').toBe(true);
    for (const [what, value] of secrets) {
      expect(text.includes(value), `${what} appears in the driver log`).toBe(false);
    }
    // The harness's own server logs (Cinder's, Keystone's): reported, not failed — their logging is
    // not ours. `manage.log` etc. are written by the harness scripts, which never log secrets.
    const rc = e.opt('RC_DIR');
    const dirs = [e.opt('CINDER_LOG_DIR'), rc ? join(rc, 'keystone', 'log') : undefined].filter((d): d is string => !!d);
    const hits: string[] = [];
    let files = 0;
    for (const dir of dirs) {
      for (const f of safeList(dir)) {
        files++;
        const body = safeRead(join(dir, f));
        for (const [what, value] of secrets) if (body.includes(value)) hits.push(`${join(dir, f)}: ${what}`);
      }
    }
    console.log(
      `real-Cinder tier: harness server logs (${files} files under ${dirs.join(', ')}) ` +
        (hits.length ? `CONTAIN secrets: ${hits.join('; ')}` : 'contain none of the secrets seen (passwords, application credential secrets, tokens, CHAP)'),
    );
  });

  it.runIf(env?.mode === 'noauth')('noauth: the driver reached Cinder at the configured endpoint', async () => {
    const e = need();
    expect(client, 'the publish test did not run').toBeDefined();
    const s = await (client as HttpCinderClient).auth.session();
    expect(s.endpoint).toBe(tierVar(e, 'ENDPOINT', 'CINDER_ENDPOINT'));
    expect(s.projectId).toBe(tierVar(e, 'PROJECT_ID', 'CINDER_PROJECT_ID'));
  });
});

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
  } catch {
    return [];
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
