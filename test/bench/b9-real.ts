/**
 * B9 against a real Cinder: `node --import tsx test/bench/b9-real.ts` with the real-Cinder
 * harness's env (test/real-cinder/ci-tier.sh keystone -- …, or its env.sh sourced). 100
 * concurrent CreateVolume through the built controller, first with only the project's own
 * volumes, then after adding SEEDED (default 300) unrelated ones; a recording proxy between the
 * controller and Cinder counts the waiter's requests and bytes per tick (ticks.ts). Everything it
 * created is deleted at the end. Prints one JSON line per scenario.
 */
import { once } from 'node:events';
import { request, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpCinderClient, isNotFound, type CinderClientConfig } from '../../src/cinder/index.js';
import { createVolumeWaiter } from '../../src/cinder/waiters.js';
import { call, capability, epochMs, GiB, requestLog, sleep, spawnBenchDriver, type RecordedRequest } from './lib.js';
import { countTicks } from './ticks.js';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run under test/real-cinder/ci-tier.sh keystone -- …`);
  return v;
};
const SEEDED = Number(process.env.SEEDED ?? 300);
const CREATES = 100;
const cinderUrl = env('CINDER_URL').replace(/\/+$/, '');
const projectId = env('CINDER_PROJECT_ID');

/** Forwards everything to the real Cinder and records each request (URL, time, response bytes). */
async function startProxy(): Promise<{ url: string; close(): void }> {
  const target = new URL(cinderUrl);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const rec: RecordedRequest = { at: epochMs(), method: req.method ?? '?', url: req.url ?? '', bytes: 0 };
    requestLog.push(rec);
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.on('data', (b: Buffer) => (rec.bytes += b.length));
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

const config: CinderClientConfig = {
  authStrategy: 'keystone',
  authUrl: env('OS_AUTH_URL'),
  username: env('OS_USERNAME'),
  password: env('OS_PASSWORD'),
  userDomainName: process.env.OS_USER_DOMAIN_NAME ?? 'Default',
  projectName: env('OS_PROJECT_NAME'),
  projectDomainName: process.env.OS_PROJECT_DOMAIN_NAME ?? 'Default',
};
const client = new HttpCinderClient(config);
const waiter = createVolumeWaiter(client, { maxIntervalMs: 1000 });
const made: string[] = [];

async function burst(dir: string, proxyUrl: string, label: string): Promise<void> {
  const conf = join(dir, `cloud-${label}.conf`);
  await writeFile(
    conf,
    [
      '[Global]',
      `auth-url = ${config.authUrl}`,
      `username = ${config.username}`,
      `password = ${config.password}`,
      `user-domain-name = ${config.userDomainName}`,
      `project-name = ${config.projectName}`,
      `project-domain-name = ${config.projectDomainName}`,
      '[BlockStorage]',
      `cinder-endpoint = ${proxyUrl}/v3/${projectId}`,
      `cluster-id = b9-real-${label}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const ctl = await spawnBenchDriver(['--mode', 'controller', '--cloud-config', conf, '--state-dir', join(dir, `state-${label}`), '--log-level', 'warn'], join(dir, `${label}.sock`));
  try {
    const warm = await call<{ volume: { volume_id: string } }>(ctl.clients.controller, 'CreateVolume', { name: `b9r-${label}-warmup`, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [capability()], parameters: {} });
    made.push(warm.res.volume.volume_id);
    await sleep(300);
    const t0 = epochMs();
    let unavailable = 0;
    const ids = await Promise.all(
      Array.from({ length: CREATES }, async (_, i) => {
        // As the provisioner does, an UNAVAILABLE (the real Cinder on sqlite answers some of a
        // burst's POSTs with 500) is retried; the retry finds the volume by name if it was made.
        for (let attempt = 1; ; attempt++) {
          try {
            const r = await call<{ volume: { volume_id: string } }>(ctl.clients.controller, 'CreateVolume', { name: `b9r-${label}-${i}`, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [capability()], parameters: {} }, 120_000);
            return r.res.volume.volume_id;
          } catch (err) {
            if ((err as { code?: number }).code !== 14 || attempt >= 20) throw err;
            unavailable++;
            await sleep(500);
          }
        }
      }),
    );
    const t1 = epochMs();
    made.push(...ids);
    const projectSize = (await client.listAllVolumes()).length;
    console.log(JSON.stringify({ scenario: label, projectVolumes: projectSize, wallMs: Math.round(t1 - t0), unavailableRetries: unavailable, ...countTicks(requestLog, t0, t1), tickTimesMs: undefined }));
  } finally {
    await ctl.stop();
  }
}

async function deleteAll(ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 20) {
    await Promise.all(
      ids.slice(i, i + 20).map(async (id) => {
        try {
          await client.deleteVolume(id);
          await waiter.waitFor(id, { until: () => 'pending', current: { id, status: 'deleting', size: 0, metadata: {}, attachments: [], multiattach: false }, deadline: Date.now() + 60_000 });
        } catch (err) {
          if (!isNotFound(err)) console.error(`could not delete ${id}: ${(err as Error).message}`);
        }
      }),
    );
  }
}

const dir = await mkdtemp(join(tmpdir(), 'cmc-b9-real-'));
const proxy = await startProxy();
try {
  await burst(dir, proxy.url, 'before-seeding');
  // Five at a time: a real Cinder on sqlite answers 500 to bursts of creates (the end cleans up by tag).
  for (let i = 0; i < SEEDED; i += 5) {
    const vs = (
      await Promise.all(
        Array.from({ length: Math.min(5, SEEDED - i) }, (_, j) =>
          client.createVolume({ name: `other-tenant-tool-${i + j}`, size: 1, metadata: { owner: 'someone-else' } }).catch(() => undefined),
        ),
      )
    ).filter((v) => v !== undefined);
    await Promise.all(vs.map((v) => waiter.waitFor(v.id, { until: (x) => (x.status === 'creating' ? 'pending' : 'done'), current: v, deadline: Date.now() + 120_000 })));
  }
  // Let the seeded volumes age past the waiter's skew margin, as a project's old volumes are.
  await sleep(31_000);
  await burst(dir, proxy.url, `with-${SEEDED}-unrelated`);
} finally {
  const leftovers = (await client.listAllVolumes()).filter((v) => v.name?.startsWith('b9r-') || v.metadata.owner === 'someone-else').map((v) => v.id);
  await deleteAll([...new Set([...made, ...leftovers])]);
  waiter.stop();
  client.close();
  proxy.close();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
