import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { startApp, type RunningApp } from '../../src/app/app.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { csiClients, rpc, rpcStatus, type CsiClients } from '../helpers/csi-client.js';
import { capturingLogger } from '../helpers/log-capture.js';

let dir: string;
let emu: RunningEmulator | undefined;
let app: RunningApp | undefined;
let clients: CsiClients | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cmc-app-'));
});
afterEach(async () => {
  clients?.close();
  await app?.stop(1000);
  await emu?.stop();
  app = undefined;
  emu = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('the composed controller', () => {
  it('serves /metrics and /healthz, and never logs the configured password, even when Keystone refuses it', async () => {
    emu = await startEmulator({ keystonePort: 0 });
    const planted = 'Planted-Cloud-Password-4c1d';
    const conf = join(dir, 'cloud.conf');
    await writeFile(
      conf,
      `[Global]\nauth-url = ${emu.keystoneUrl}\nusername = csi\npassword = "${planted}"\nuser-domain-name = Default\nproject-name = csi\nproject-domain-name = Default\n`,
    );
    const cap = capturingLogger('trace');
    app = await startApp(
      {
        mode: 'controller',
        endpoint: `unix://${join(dir, 'c.sock')}`,
        cloudConfig: conf,
        logLevel: 'trace',
        httpEndpoint: '127.0.0.1:0',
        kubeletDir: dir,
        stateDir: dir,
        hostExec: 'direct',
        shutdownGraceSeconds: 1,
      },
      cap.log,
    );
    clients = csiClients(app.server.address);
    // Probe stays local: ready although Keystone will refuse the credentials.
    expect((await rpc(clients.identity, 'Probe', {})).ready.value).toBe(true);
    const caps = await rpc(clients.identity, 'GetPluginCapabilities', {});
    expect(caps.capabilities.map((c: any) => c.service?.type ?? c.volume_expansion?.type)).toContain('CONTROLLER_SERVICE');
    const listed = await rpcStatus(clients.controller, 'ListVolumes', {});
    expect(listed.code).not.toBe(status.OK);
    expect(listed.details).not.toContain(planted);

    const base = `http://127.0.0.1:${app.http?.port}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/cinder_metal_csi_rpc_total\{method="ListVolumes",code="\w+"\} 1/);
    expect(metrics).toMatch(/cinder_metal_csi_rpc_duration_seconds_count\{method="Probe"\} 1/);
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    expect(cap.lines.length).toBeGreaterThan(3);
    expect(cap.text()).not.toContain(planted);
  });
});
