import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.js';
import { metricsRegistry } from '../util/metrics.js';

/** `--http-endpoint :9808` or `127.0.0.1:9808` → host and port. */
export function parseHttpEndpoint(raw: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(raw);
  const port = m?.[2] === undefined ? NaN : Number(m[2]);
  if (!m || !(port >= 0 && port <= 65535)) throw new Error(`invalid --http-endpoint ${JSON.stringify(raw)}: expected [host]:port`);
  return { host: m[1] || '0.0.0.0', port };
}

export interface HttpEndpoint {
  port: number;
  close(): Promise<void>;
}

/** Serves /metrics (Prometheus text) and /healthz (local readiness, never Cinder). */
export async function startHttpEndpoint(
  raw: string,
  healthy: () => Promise<boolean>,
  log: Logger,
): Promise<HttpEndpoint> {
  const { host, port } = parseHttpEndpoint(raw);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/metrics') {
      metricsRegistry
        .metrics()
        .then((text) => res.writeHead(200, { 'Content-Type': metricsRegistry.contentType }).end(text))
        .catch(() => res.writeHead(500).end());
      return;
    }
    if (path === '/healthz') {
      healthy()
        .then((ok) => res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n'))
        .catch(() => res.writeHead(503).end('not ready\n'));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ host, port: bound }, 'metrics and health endpoint listening');
  return {
    port: bound,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
