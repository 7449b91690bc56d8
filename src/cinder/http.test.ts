import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test/helpers/log-capture.js';
import { createCinderClient } from './client.js';
import { InvalidClientConfigError } from './config.js';
import { AxiosTransport, RECENT_IDLE_MS, TransportError } from './http.js';

/** The axios transport against real sockets: statuses, timeouts, resets, refusals and TLS. */

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function close(server: http.Server | https.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

describe('AxiosTransport over HTTP', () => {
  let server: http.Server;
  let base: string;
  let handler: Handler = (_req, res) => res.end();
  const transport = new AxiosTransport();

  beforeAll(async () => {
    server = http.createServer((req, res) => handler(req, res));
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(async () => {
    transport.close();
    await close(server);
  });

  it('returns any status with lower-cased headers and the raw body; sends JSON', async () => {
    let got = '';
    handler = (req, res) => {
      req.on('data', (c: Buffer) => (got += c.toString()));
      req.on('end', () => {
        res.writeHead(413, { 'Retry-After': '0', 'Content-Type': 'application/json' });
        res.end('{"overLimit":{}}');
      });
    };
    const res = await transport.request({ method: 'POST', url: `${base}/volumes`, body: { a: 1 }, timeoutMs: 2000, headers: { 'X-Auth-Token': 't' } });
    expect(res).toMatchObject({ status: 413, text: '{"overLimit":{}}' });
    expect(res.headers['retry-after']).toBe('0');
    expect(JSON.parse(got)).toEqual({ a: 1 });
  });

  it('a hung server ends in a timeout TransportError after timeoutMs', async () => {
    handler = () => undefined;
    const t0 = Date.now();
    const err = await transport.request({ method: 'GET', url: `${base}/hang`, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ failure: 'timeout', maybeSent: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it("the caller's abort is reported as aborted, not as a timeout", async () => {
    handler = () => undefined;
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    await expect(transport.request({ method: 'GET', url: `${base}/hang`, timeoutMs: 5000, signal: ctl.signal })).rejects.toMatchObject({ failure: 'aborted' });
  });

  it('a connection destroyed after the request is a reset that may have been executed', async () => {
    handler = (req) => req.socket.destroy();
    await expect(transport.request({ method: 'POST', url: `${base}/volumes`, body: {}, timeoutMs: 2000, freshConnection: true })).rejects.toMatchObject({
      failure: 'network',
      code: 'ECONNRESET',
      maybeSent: true,
    });
  });

  it('a POST reuses only a connection idle for less than a second, never an older one', async () => {
    handler = (req, res) => res.end(String(req.socket.remotePort));
    const post = async (): Promise<string> => (await transport.request({ method: 'POST', url: `${base}/volumes`, body: {}, timeoutMs: 2000, freshConnection: true })).text;
    const first = await post();
    const second = await post();
    expect(second).toBe(first);
    await new Promise((r) => setTimeout(r, RECENT_IDLE_MS + 300));
    expect(await post()).not.toBe(first);
  });

  it('a refused connection certainly never reached the server', async () => {
    const probe = http.createServer();
    const port = await listen(probe);
    await close(probe);
    await expect(transport.request({ method: 'POST', url: `http://127.0.0.1:${port}/volumes`, timeoutMs: 2000 })).rejects.toMatchObject({
      failure: 'network',
      code: 'ECONNREFUSED',
      maybeSent: false,
    });
  });
});

describe.skipIf(!hasOpenssl())('AxiosTransport over HTTPS', () => {
  let dir: string;
  let server: https.Server;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cinder-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => {
      res.writeHead(300, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ versions: [{ id: 'v3.0', version: '3.70', min_version: '3.0' }] }));
    });
    url = `https://127.0.0.1:${await listen(server)}`;
  });
  afterAll(async () => {
    await close(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('trusts the configured CA, refuses an unknown one (final, not retried), and skips checks only when asked', async () => {
    const withCa = new AxiosTransport({ ca: readFileSync(join(dir, 'cert.pem')) });
    expect((await withCa.request({ method: 'GET', url: `${url}/`, timeoutMs: 3000 })).status).toBe(300);
    withCa.close();

    const noCa = new AxiosTransport();
    await expect(noCa.request({ method: 'GET', url: `${url}/`, timeoutMs: 3000 })).rejects.toMatchObject({ failure: 'tls', maybeSent: false });
    noCa.close();

    const insecure = new AxiosTransport({ insecure: true });
    expect((await insecure.request({ method: 'GET', url: `${url}/`, timeoutMs: 3000 })).status).toBe(300);
    insecure.close();
  });

  it('createCinderClient reads ca-file; a missing file is a clear config error; tls-insecure warns', async () => {
    const config = { authStrategy: 'noauth' as const, cinderEndpoint: `${url}/v3/0123456789abcdef0123456789abcdef` };
    const c = await createCinderClient({ ...config, caFile: join(dir, 'cert.pem') });
    expect((await c.features()).microversion).toBe('3.70');
    c.close();

    await expect(createCinderClient({ ...config, caFile: join(dir, 'missing.pem') })).rejects.toThrow(InvalidClientConfigError);
    await expect(createCinderClient({ ...config, caFile: join(dir, 'missing.pem') })).rejects.toThrow(/ca-file .*missing\.pem cannot be read \(ENOENT\)/);

    const cap = capturingLogger('info');
    const insecure = await createCinderClient({ ...config, tlsInsecure: true }, { log: cap.log });
    expect(cap.text()).toMatch(/TLS certificate verification is DISABLED/);
    expect((await insecure.features()).microversion).toBe('3.70');
    insecure.close();

    const strict = await createCinderClient(config);
    const t0 = Date.now();
    await expect(strict.features()).rejects.toMatchObject({ name: 'CinderError', kind: 'network', status: undefined });
    expect(Date.now() - t0).toBeLessThan(1000); // not retried with back-off
    strict.close();
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
