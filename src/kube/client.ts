import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { errorMessage } from '../util/errors.js';

/**
 * The smallest Kubernetes API client the driver needs (read a Node, patch its annotations),
 * with the pod's in-cluster credentials. The service account token is read for every request:
 * bound tokens are rotated by kubelet, and a cached one would expire after an hour.
 */
export interface KubeConfig {
  /** https://10.96.0.1:443 */
  server: string;
  tokenFile: string;
  /** PEM of the cluster CA; undefined only for a plain-http test server. */
  ca?: string;
  timeoutMs?: number;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The in-cluster config from the pod's environment, or undefined outside a pod. */
export async function inClusterConfig(env: NodeJS.ProcessEnv = process.env): Promise<KubeConfig | undefined> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const ca = await readFile(`${SA_DIR}/ca.crt`, 'utf8').catch(() => undefined);
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { server, tokenFile: `${SA_DIR}/token`, ...(ca ? { ca } : {}) };
}

export class KubeError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export interface KubeResponse {
  status: number;
  body: unknown;
}

export class KubeClient {
  constructor(private readonly config: KubeConfig) {}

  async get(path: string, signal?: AbortSignal): Promise<KubeResponse> {
    return this.send('GET', path, undefined, undefined, signal);
  }

  /** JSON merge patch (RFC 7386): only the fields in `patch` change. */
  async mergePatch(path: string, patch: unknown, signal?: AbortSignal): Promise<KubeResponse> {
    return this.send('PATCH', path, JSON.stringify(patch), 'application/merge-patch+json', signal);
  }

  private async send(method: string, path: string, body: string | undefined, contentType: string | undefined, signal?: AbortSignal): Promise<KubeResponse> {
    const token = (await readFile(this.config.tokenFile, 'utf8')).trim();
    const url = new URL(path, this.config.server);
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (body !== undefined && contentType) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<KubeResponse>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          headers,
          timeout: this.config.timeoutMs ?? 10_000,
          ...(url.protocol === 'https:' && this.config.ca ? { ca: this.config.ca } : {}),
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON: keep the text for the message
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new KubeError(undefined, `${method} ${url.pathname}: no answer from the Kubernetes API within the timeout`)));
      req.on('error', (err) => reject(err instanceof KubeError ? err : new KubeError(undefined, `${method} ${url.pathname}: ${errorMessage(err)}`)));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}
