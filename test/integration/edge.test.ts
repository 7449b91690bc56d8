import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { controllerBinding, identityBinding, nodeBinding } from '../../src/csi/bindings.js';
import { loadCsi } from '../../src/csi/proto.js';
import { UNIMPLEMENTED, type ControllerRpcs } from '../../src/csi/service-types.js';
import { startCsiServer, type CsiServer } from '../../src/csi/server.js';
import { IdentityService } from '../../src/services/identity.js';
import { DriverError } from '../../src/util/errors.js';
import type { RpcContext } from '../../src/util/context.js';
import { csiClients, rpc, rpcStatus, type CsiClients } from '../helpers/csi-client.js';
import { capturingLogger } from '../helpers/log-capture.js';
import { packageInfo } from '../../src/util/package-info.js';

let dir: string;
let server: CsiServer | undefined;
let clients: CsiClients | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cmc-edge-'));
});
afterEach(async () => {
  clients?.close();
  await server?.shutdown(1000);
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

const PLANTED = {
  secret: 'Planted-Csi-Secret-5a1f',
  password: 'Planted-Password-77c2',
  token: 'Planted-Token-e9d0',
};

describe('the gRPC edge over a real unix socket', () => {
  it('serves Identity, answers UNIMPLEMENTED for the rest, and creates the socket 0600', async () => {
    const { log } = capturingLogger('info');
    const sock = join(dir, 'csi.sock');
    server = await startCsiServer(
      `unix://${sock}`,
      [identityBinding(new IdentityService('node')), controllerBinding(undefined), nodeBinding(undefined)],
      log,
    );
    expect((await stat(sock)).mode & 0o777).toBe(0o600);
    clients = csiClients(sock);
    const info = await rpc(clients.identity, 'GetPluginInfo', {});
    expect(info).toMatchObject({ name: 'cinder.metal.csi.kungze.io', vendor_version: packageInfo().version });
    expect(await rpc(clients.identity, 'Probe', {})).toMatchObject({ ready: { value: true } });
    const caps = await rpc(clients.identity, 'GetPluginCapabilities', {});
    expect(caps.capabilities).toEqual([]); // node mode: no CONTROLLER_SERVICE
    for (const [client, method] of [
      [clients.controller, 'CreateVolume'],
      [clients.controller, 'ControllerPublishVolume'],
      [clients.node, 'NodeStageVolume'],
      [clients.node, 'NodeGetInfo'],
    ] as const) {
      const r = await rpcStatus(client, method, {});
      expect(r.code, method).toBe(status.UNIMPLEMENTED);
      expect(r.details).toContain(method);
    }
  });

  it('advertises CONTROLLER_SERVICE only when the controller runs', async () => {
    const { log } = capturingLogger('info');
    server = await startCsiServer('tcp://127.0.0.1:0', [identityBinding(new IdentityService('all'))], log);
    clients = csiClients(server.address);
    const caps = await rpc(clients.identity, 'GetPluginCapabilities', {});
    expect(caps.capabilities.map((c: any) => c.service?.type)).toContain('CONTROLLER_SERVICE');
  });

  it('advertises VOLUME_ACCESSIBILITY_CONSTRAINTS only where NodeGetInfo keeps it: controller mode, or all mode with a zone', async () => {
    const types = async (svc: IdentityService): Promise<string[]> => (await svc.getPluginCapabilities()).capabilities.map((c) => c.service?.type ?? '');
    expect(await types(new IdentityService('controller'))).toContain('VOLUME_ACCESSIBILITY_CONSTRAINTS');
    expect(await types(new IdentityService('all'))).not.toContain('VOLUME_ACCESSIBILITY_CONSTRAINTS');
    expect(await types(new IdentityService('all', () => true, () => false, true))).toContain('VOLUME_ACCESSIBILITY_CONSTRAINTS');
    expect(await types(new IdentityService('node'))).toEqual([]);
  });

  it('answers ABORTED on lock contention, and frees the key afterwards', async () => {
    const { log } = capturingLogger('info');
    let releaseFirst!: () => void;
    const firstStarted = new Promise<void>((started) => {
      server = undefined;
      void started;
      releaseFirst = () => undefined;
    });
    void firstStarted;
    let enter!: () => void;
    const entered = new Promise<void>((r) => (enter = r));
    const gate = new Promise<void>((r) => (releaseFirst = r));
    server = await startCsiServer(
      `unix://${join(dir, 'c.sock')}`,
      [
        controllerBinding(controllerWith({
          DeleteVolume: async () => {
            enter();
            await gate;
            return {};
          },
        })),
      ],
      log,
    );
    clients = csiClients(server.address);
    const first = rpc(clients.controller, 'DeleteVolume', { volume_id: 'v1' });
    await entered;
    const second = await rpcStatus(clients.controller, 'DeleteVolume', { volume_id: 'v1' });
    expect(second.code).toBe(status.ABORTED);
    expect(second.details).toContain('vol:v1');
    const other = rpcStatus(clients.controller, 'DeleteVolume', { volume_id: 'v2' });
    releaseFirst();
    await first;
    expect((await other).code).toBe(status.OK);
    expect((await rpcStatus(clients.controller, 'DeleteVolume', { volume_id: 'v1' })).code).toBe(status.OK);
  });

  it('hands the handler an AbortSignal that fires at the deadline', async () => {
    const { log } = capturingLogger('info');
    let seen: RpcContext | undefined;
    server = await startCsiServer(
      `unix://${join(dir, 'd.sock')}`,
      [
        controllerBinding(controllerWith({
          CreateVolume: (_req: unknown, ctx: RpcContext) =>
            new Promise((_resolve, reject) => {
              seen = ctx;
              ctx.signal.addEventListener('abort', () => reject(new DriverError('aborted', 'still creating')));
            }),
        } as never)),
      ],
      log,
    );
    clients = csiClients(server.address);
    const started = Date.now();
    const r = await rpcStatus(clients.controller, 'CreateVolume', { name: 'n' }, 300);
    expect(r.code).toBe(status.DEADLINE_EXCEEDED);
    expect(seen?.deadline).toBeGreaterThan(started);
    await new Promise((res) => setTimeout(res, 50));
    expect(seen?.signal.aborted).toBe(true);
  });

  it('never logs secrets from requests, responses or errors, and logs one line per RPC', async () => {
    const cap = capturingLogger('trace');
    server = await startCsiServer(
      `unix://${join(dir, 'r.sock')}`,
      [
        controllerBinding(controllerWith({
          CreateVolume: async () => ({ volume: { volume_id: 'v9', volume_context: { password: PLANTED.password } } }),
          DeleteVolume: async () => {
            const err = new Error('backend rejected the request');
            Object.assign(err, { token: PLANTED.token, response: { headers: { 'X-Auth-Token': PLANTED.token } } });
            throw err;
          },
        })),
      ],
      cap.log,
    );
    clients = csiClients(server.address);
    await rpc(clients.controller, 'CreateVolume', {
      name: 'pvc-1',
      secrets: { anything: PLANTED.secret },
      parameters: { type: 'local' },
    });
    const failed = await rpcStatus(clients.controller, 'DeleteVolume', { volume_id: 'v9', secrets: { k: PLANTED.secret } });
    expect(failed.code).toBe(status.INTERNAL);
    const text = cap.text();
    for (const s of Object.values(PLANTED)) expect(text).not.toContain(s);
    expect(failed.details).not.toContain(PLANTED.token);
    // the request was logged (at trace), with its non-secret fields
    expect(text).toContain('pvc-1');
    const rpcLines = cap.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'rpc');
    expect(rpcLines).toHaveLength(2);
    expect(rpcLines[0]).toMatchObject({ method: 'CreateVolume', code: 'OK', volumeId: 'pvc-1' });
    expect(rpcLines[1]).toMatchObject({ method: 'DeleteVolume', code: 'INTERNAL', volumeId: 'v9' });
    expect(typeof rpcLines[0].durationMs).toBe('number');
    expect(rpcLines[0].requestId).toMatch(/^[0-9a-f]{12}$/);
  });

  it('lets an in-flight RPC finish on shutdown, then removes the socket', async () => {
    const { log } = capturingLogger('info');
    const sock = join(dir, 's.sock');
    let enter!: () => void;
    const entered = new Promise<void>((r) => (enter = r));
    server = await startCsiServer(
      `unix://${sock}`,
      [
        controllerBinding(controllerWith({
          DeleteVolume: async () => {
            enter();
            await new Promise((r) => setTimeout(r, 300));
            return {};
          },
        })),
      ],
      log,
    );
    clients = csiClients(sock);
    const inflight = rpcStatus(clients.controller, 'DeleteVolume', { volume_id: 'x' });
    await entered;
    const { drained } = await server.shutdown(5000);
    server = undefined;
    expect(drained).toBe(true);
    expect((await inflight).code).toBe(status.OK);
    await expect(stat(sock)).rejects.toThrow(/ENOENT/);
  });

  it('replaces a stale socket but refuses to steal a live one', async () => {
    const { log } = capturingLogger('info');
    const sock = join(dir, 'live.sock');
    server = await startCsiServer(`unix://${sock}`, [identityBinding(new IdentityService('node'))], log);
    await expect(startCsiServer(`unix://${sock}`, [identityBinding(new IdentityService('node'))], log)).rejects.toThrow(
      /another process is serving/,
    );
  });
});

/** A controller service with these RPCs; every other one UNIMPLEMENTED. */
function controllerWith(h: Partial<ControllerRpcs>): ControllerRpcs {
  const all = Object.fromEntries(Object.keys(loadCsi().Controller.service).map((m) => [m, UNIMPLEMENTED])) as ControllerRpcs;
  return { ...all, ...h };
}
