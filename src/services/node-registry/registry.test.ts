import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient, KubeError } from '../../kube/client.js';
import { capturingLogger } from '../../../test/helpers/log-capture.js';
import { generateNodeKeyPair } from '../../util/seal.js';
import { generateSigningKeyPair } from '../../util/sign.js';
import { keyFingerprint, type StableNodeIdentity } from '../node-id.js';
import { ConnectorPublisher } from '../node/connector-publisher.js';
import type { NodeKeys } from '../node/key-store.js';
import { CONNECTOR_ANNOTATION, KubernetesRegistry } from './kubernetes.js';
import { signRecord, verifyRecord, type ConnectorFacts } from './record.js';
import { MemoryRegistry } from '../../../test/fakes/memory-registry.js';
import { DirectoryRegistry, type ConnectorRegistry } from './registry.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cmc-registry-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const keys = (): NodeKeys => ({ seal: generateNodeKeyPair(), sign: generateSigningKeyPair() });
const facts: ConnectorFacts = { host: 'n1', ip: '10.0.0.5', initiator: 'iqn.2004-10.com.ubuntu:01:n1', multipath: true, platform: 'x86_64', osType: 'linux2' };
const identity = (k: NodeKeys, nodeName = 'n1'): StableNodeIdentity => ({ nodeName, fingerprint: keyFingerprint(k.seal.publicKey, k.sign.publicKey) });
const wire = (k: NodeKeys, f: ConnectorFacts = facts, nodeName = 'n1'): string =>
  signRecord({ version: 1, nodeName, issuedAt: '2026-12-02T00:00:00.000Z', sealKey: k.seal.publicKey, signKey: k.sign.publicKey, facts: f }, k.sign);

describe('connector records', () => {
  it('verify for the node whose keys made them, and name what is wrong otherwise', () => {
    const k = keys();
    const rec = verifyRecord(wire(k), identity(k));
    expect(rec).toMatchObject({ nodeName: 'n1', sealKey: k.seal.publicKey, facts });
    const other = keys();
    expect(() => verifyRecord(wire(other), identity(k))).toThrow(/keys do not match the node id/);
    expect(() => verifyRecord(wire(k, facts, 'n2'), identity(k))).toThrow(/names node "n2"/);
    const parsed = JSON.parse(wire(k)) as { record: string; signature: string };
    const altered = JSON.stringify({ ...parsed, record: parsed.record.replace('10.0.0.5', '10.0.0.6') });
    expect(() => verifyRecord(altered, identity(k))).toThrow(/signature does not verify/);
    expect(() => verifyRecord('{', identity(k))).toThrow(/not JSON/);
    const badIp = wire(k, { ...facts, ip: 'not-an-ip' });
    expect(() => verifyRecord(badIp, identity(k))).toThrow(/ip is not an IP address/);
  });
});

describe('registries', () => {
  it('directory: one file per node, replaced atomically, nothing for an unknown node', async () => {
    const reg = new DirectoryRegistry(join(dir, 'records'));
    expect(await reg.fetch('n1')).toBeUndefined();
    await reg.publish('n1', 'one');
    await reg.publish('n1', 'two');
    expect(await reg.fetch('n1')).toBe('two');
    expect(await readdir(join(dir, 'records'))).toEqual(['n1.json']);
  });

  it('kubernetes: reads and merge-patches the Node annotation with the service account token', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'tok-1\n');
    const seen: Array<{ method: string; url: string; auth: string; type: string; body: string }> = [];
    const annotations: Record<string, string> = {};
    const server = await listen(async (req, body) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization ?? '', type: req.headers['content-type'] ?? '', body });
      if (req.url === '/api/v1/nodes/gone') return [404, { kind: 'Status', message: 'nodes "gone" not found' }];
      if (req.url === '/api/v1/nodes/locked') return [403, { kind: 'Status', message: 'forbidden: cannot patch' }];
      if (req.method === 'PATCH') Object.assign(annotations, (JSON.parse(body) as { metadata: { annotations: Record<string, string> } }).metadata.annotations);
      return [200, { metadata: { name: 'n1', annotations } }];
    });
    const address = server.address() as { port: number };
    const reg = new KubernetesRegistry(new KubeClient({ server: `http://127.0.0.1:${address.port}`, tokenFile }));
    await reg.publish('n1', 'record-text');
    expect(seen[0]).toEqual({
      method: 'PATCH',
      url: '/api/v1/nodes/n1',
      auth: 'Bearer tok-1',
      type: 'application/merge-patch+json',
      body: JSON.stringify({ metadata: { annotations: { [CONNECTOR_ANNOTATION]: 'record-text' } } }),
    });
    // The token is read for every request: kubelet rotates it.
    await writeFile(tokenFile, 'tok-2\n');
    expect(await reg.fetch('n1')).toBe('record-text');
    expect(seen[1]?.auth).toBe('Bearer tok-2');
    expect(await reg.fetch('gone')).toBeUndefined();
    const err = await reg.publish('locked', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).message).toBe('patching Node locked answered 403: forbidden: cannot patch');
    server.close();
  });
});

describe('ConnectorPublisher', () => {
  it('publishes at start, again only when a fact changed, and keeps going when the registry fails', async () => {
    const k = keys();
    let current: ConnectorFacts = facts;
    let failing = false;
    const writes: string[] = [];
    const inner = new MemoryRegistry();
    const registry: ConnectorRegistry = {
      description: 'test registry',
      publish: async (name, w) => {
        if (failing) throw new Error('registry down');
        writes.push(w);
        await inner.publish(name, w);
      },
      fetch: (name) => inner.fetch(name),
    };
    const logs = capturingLogger('info');
    const p = new ConnectorPublisher({ nodeName: 'n1', keys: k, registry, gather: () => Promise.resolve(current), log: logs.log, refreshMs: 3_600_000 });
    await p.start();
    expect(writes).toHaveLength(1);
    expect(verifyRecord((await inner.fetch('n1')) ?? '', identity(k)).facts).toEqual(facts);
    await p.refresh();
    expect(writes).toHaveLength(1);
    failing = true;
    current = { ...facts, ip: '10.0.0.99' };
    await p.refresh();
    expect(logs.text()).toContain('cannot publish this node');
    failing = false;
    await p.refresh();
    expect(writes).toHaveLength(2);
    expect(verifyRecord((await inner.fetch('n1')) ?? '', identity(k)).facts.ip).toBe('10.0.0.99');
    p.stop();
  });
});

function listen(handle: (req: IncomingMessage, body: string) => Promise<[number, unknown]>): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, Buffer.concat(chunks).toString('utf8')).then(([status, body]) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
