import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PREFIX, adminResolver } from './admin.js';
import { cinderResolver } from './cinder-app.js';
import type { Env } from './env.js';
import { FaultEngine } from './faults.js';
import { removeFile } from './files.js';
import { DEFAULT_PROJECT_ID, DEFAULT_USER, IdentityStore } from './identity.js';
import { seedVolumes } from './seed.js';
import { newUuid } from './ids.js';
import { keystoneResolver, type ServiceUrls } from './keystone.js';
import { Lifecycle } from './lifecycle.js';
import { parseVersion } from './microversion.js';
import { requestListener } from './pipeline.js';
import { defaultQuotas } from './quotas.js';
import { StatsRecorder } from './stats.js';
import { Store } from './state.js';
import type { EmulatorOptions, RunningEmulator } from './types.js';
import { installTypes } from './volume-types.js';
import { installGroupTypes } from './groups.js';

/** Builds the emulator's state and serves Cinder (and, when asked, Keystone) on node:http. */

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Hung requests (the `hang` fault) and idle keep-alive sockets would hold close() forever.
    server.closeAllConnections();
  });
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function checkOptions(o: EmulatorOptions): void {
  const port = (name: string, v: number | undefined): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 65535)) throw new Error(`${name} must be an integer 0-65535`);
  };
  port('port', o.port);
  port('keystonePort', o.keystonePort);
  if (o.delayMs !== undefined && (!Number.isFinite(o.delayMs) || o.delayMs < 0)) throw new Error('delayMs must be >= 0');
  if (o.projectId !== undefined && !/^[0-9a-f]+$/.test(o.projectId)) throw new Error('projectId must be hex');
  if (o.zones !== undefined && o.zones.length === 0) throw new Error('zones must not be empty');
  if (o.users !== undefined && o.users.length === 0) throw new Error('users must not be empty');
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  checkOptions(opts);
  const host = opts.host ?? '127.0.0.1';
  const maxVersion = parseVersion(opts.maxMicroversion ?? '3.70');
  if (!maxVersion || maxVersion.major !== 3) throw new Error(`maxMicroversion must be 3.N, got ${opts.maxMicroversion ?? ''}`);
  const ownStateDir = opts.stateDir === undefined;
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'cinder-emulator-')));
  await mkdir(stateDir, { recursive: true });

  const stats = new StatsRecorder();
  const faults = new FaultEngine(opts.faults);
  const store = new Store();
  installTypes(store, opts.volumeTypes);
  installGroupTypes(store);
  const projectId = opts.projectId ?? DEFAULT_PROJECT_ID;
  const users = opts.users ?? [DEFAULT_USER];
  const env: Env = {
    store,
    identity: new IdentityStore(users, projectId),
    lifecycle: new Lifecycle(opts.delayMs ?? 0, stats, faults),
    faults,
    stats,
    stateDir,
    zones: opts.zones ?? ['nova'],
    backends: {
      iscsiPortals: opts.iscsiPortals ?? ['127.0.0.1:3260', '127.0.0.2:3260'],
      rbd: { pool: 'volumes', hosts: ['127.0.0.1'], ports: ['6789'], secretUuid: newUuid() },
    },
    maxVersion,
    defaultQuotas: defaultQuotas(opts.quotas),
  };
  if (opts.seedVolumes) seedVolumes(env, projectId, opts.seedVolumes.count, opts.seedVolumes);

  const urls: ServiceUrls = { cinder: '', keystone: '' };
  const withKeystone = opts.keystonePort !== undefined;
  let cinderPort = 0;
  const cinderFallback = (): string => `${urlHost(host)}:${cinderPort}`;
  const resolveCinder = cinderResolver(env, () => (withKeystone ? urls.keystone : undefined));

  const expireTokens = (): void => env.identity.expireAll();
  const createApplicationCredential = (userName: string, name: string): { id: string; secret: string } => {
    const user = [...env.identity.users.values()].find((u) => u.name === userName);
    if (!user) throw new Error(`no user named ${userName}`);
    const { cred, secret } = env.identity.createAppCredential(user, name);
    return { id: cred.id, secret };
  };
  const info = (): Record<string, unknown> => ({
    cinderUrl: urls.cinder,
    cinderEndpoint: `${urls.cinder}/v3/${projectId}`,
    keystoneUrl: withKeystone ? `${urls.keystone}/v3` : null,
    projectId,
    stateDir,
  });
  const admin = adminResolver(env, { info, expireTokens, createApplicationCredential });

  const cinderServer = createServer(
    requestListener(
      env,
      cinderFallback,
      (req) => (req.path === ADMIN_PREFIX || req.path.startsWith(`${ADMIN_PREFIX}/`) ? admin(req) : resolveCinder(req)),
      (key) => {
        if (key !== 'ADMIN') stats.request(key);
      },
    ),
  );
  let keystoneServer: Server | undefined;
  const servers: Server[] = [];
  try {
    if (withKeystone) {
      let ksPort = 0;
      keystoneServer = createServer(
        requestListener(
          env,
          () => `${urlHost(host)}:${ksPort}`,
          keystoneResolver(env, urls, () => opts.tokenTtlSeconds ?? 3600),
          (key) => stats.keystoneRequest(key),
        ),
      );
      ksPort = await listen(keystoneServer, host, opts.keystonePort ?? 0);
      servers.push(keystoneServer);
      urls.keystone = `http://${urlHost(host)}:${ksPort}`;
    }
    cinderPort = await listen(cinderServer, host, opts.port ?? 0);
    servers.push(cinderServer);
  } catch (err) {
    await Promise.all(servers.map(close));
    if (ownStateDir) await rm(stateDir, { recursive: true, force: true });
    throw err;
  }
  urls.cinder = `http://${urlHost(host)}:${cinderPort}`;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(servers.map(close));
      await env.lifecycle.stop();
      if (ownStateDir) {
        await rm(stateDir, { recursive: true, force: true });
      } else {
        // A given state dir outlives us; the files of the volumes that die with us do not.
        const paths = [...store.volumes.values(), ...store.snapshots.values()].map((o) => o.filePath);
        await Promise.all(paths.filter((p): p is string => p !== null).map((p) => removeFile(p)));
      }
    })();
    return stopped;
  };

  return {
    cinderUrl: urls.cinder,
    cinderEndpoint: `${urls.cinder}/v3/${projectId}`,
    ...(withKeystone ? { keystoneUrl: `${urls.keystone}/v3` } : {}),
    projectId,
    stateDir,
    setFaults: (f) => faults.set(f),
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    createApplicationCredential,
    expireTokens,
    stop,
  };
}
