import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';

/**
 * The one place that touches axios. It sends a request and hands back status, headers and the
 * raw body text — nothing is thrown for an HTTP status; interpretation (errors, retries, auth)
 * lives above. A request that gets no answer throws a TransportError carrying only an errno-like
 * code: never axios's error, whose `config` holds our headers (the token) and body (a password).
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON. */
  body?: unknown;
  /** Bound of this attempt, in milliseconds. */
  timeoutMs: number;
  /** The caller's cancellation. */
  signal?: AbortSignal;
  /**
   * Send on a fresh connection: a new one, or one idle for less than RECENT_IDLE_MS. Used for
   * non-idempotent POSTs: a pooled keep-alive socket the server already closed fails with
   * ECONNRESET, which for a create would leave us not knowing whether the object exists.
   */
  freshConnection?: boolean;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  text: string;
}

export interface HttpTransport {
  request(req: HttpRequest): Promise<HttpResponse>;
  /** Frees pooled sockets. */
  close(): void;
}

/** `tls`: the certificate was refused — permanent until the config changes, never retried. */
export type TransportFailure = 'network' | 'tls' | 'timeout' | 'aborted';

export class TransportError extends Error {
  constructor(
    readonly failure: TransportFailure,
    /** ECONNREFUSED, ECONNRESET, ETIMEDOUT, ... */
    readonly code: string,
    /** False only when the request certainly never reached the server (connection refused, DNS). */
    readonly maybeSent: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** Errors raised before a byte of the request could reach the server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** Node's certificate verification failures (the request never left: the handshake failed). */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|HOSTNAME|ALTNAME/;

export interface TlsOptions {
  /** PEM CA bundle contents. */
  ca?: Buffer | string;
  insecure?: boolean;
}

/** How long a connection may have been idle and still carry a non-idempotent request. */
export const RECENT_IDLE_MS = 1000;

export class AxiosTransport implements HttpTransport {
  private readonly ax: AxiosInstance;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly freshAgents: { http: http.Agent; https: https.Agent };

  constructor(tls: TlsOptions = {}) {
    const tlsOpts: https.AgentOptions = {};
    if (tls.ca !== undefined) tlsOpts.ca = tls.ca;
    if (tls.insecure) tlsOpts.rejectUnauthorized = false;
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 64, ...tlsOpts }),
    };
    // "Fresh" = a new connection, or one that finished a request less than a second ago: a
    // server's keep-alive timeout is longer than that (seconds to minutes), so it cannot be
    // closing it under us, and a burst of creates does not pay a TCP (and TLS) handshake each.
    // A free socket idle longer is destroyed by the agent (its `timeout`).
    this.freshAgents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 64, timeout: RECENT_IDLE_MS, scheduling: 'lifo' }),
      https: new https.Agent({ keepAlive: true, maxSockets: 64, timeout: RECENT_IDLE_MS, scheduling: 'lifo', ...tlsOpts }),
    };
    this.ax = axios.create({
      validateStatus: () => true,
      maxRedirects: 0,
      responseType: 'text',
      // Keep the body as text: we parse and validate it ourselves.
      transformResponse: [(data: unknown) => data],
      // Proxies from the environment are honoured (with NO_PROXY) as axios does by default.
    });
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, Math.max(1, req.timeoutMs));
    const onAbort = (): void => ctl.abort();
    if (req.signal) {
      if (req.signal.aborted) ctl.abort();
      else req.signal.addEventListener('abort', onAbort, { once: true });
    }
    const agents = req.freshConnection ? this.freshAgents : this.agents;
    const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
    if (req.body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      const res = await this.ax.request<string>({
        method: req.method,
        url: req.url,
        headers,
        data: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: ctl.signal,
        httpAgent: agents.http,
        httpsAgent: agents.https,
      });
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers as Record<string, unknown>)) {
        if (typeof v === 'string') out[k.toLowerCase()] = v;
        else if (Array.isArray(v)) out[k.toLowerCase()] = v.join(', ');
        else if (typeof v === 'number') out[k.toLowerCase()] = String(v);
      }
      return { status: res.status, headers: out, text: typeof res.data === 'string' ? res.data : '' };
    } catch (err) {
      if (req.signal?.aborted && !timedOut) {
        throw new TransportError('aborted', 'ABORTED', true, 'the caller cancelled the request');
      }
      if (timedOut) {
        throw new TransportError('timeout', 'ETIMEDOUT', true, `no answer within ${req.timeoutMs} ms`);
      }
      const code = errnoOf(err);
      if (TLS_CODES.test(code)) {
        throw new TransportError('tls', code, false, `TLS verification failed (${code}); is ca-file set to the CA that signed the server's certificate?`);
      }
      throw new TransportError('network', code, !NOT_SENT_CODES.has(code), `connection failed (${code})`);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    for (const a of [this.agents.http, this.agents.https, this.freshAgents.http, this.freshAgents.https]) a.destroy();
  }
}

/** The errno-like code of a failed request, without touching anything that holds secrets. */
function errnoOf(err: unknown): string {
  if (err && typeof err === 'object') {
    const rec = err as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof rec.code === 'string' && /^E[A-Z_]+$/.test(rec.code)) return rec.code;
    if (rec.cause && typeof rec.cause === 'object') {
      const c = (rec.cause as { code?: unknown }).code;
      if (typeof c === 'string') return c;
    }
    if (typeof rec.message === 'string' && /socket hang up/i.test(rec.message)) return 'ECONNRESET';
    if (typeof rec.code === 'string' && rec.code !== 'ERR_BAD_REQUEST' && rec.code !== 'ERR_BAD_RESPONSE') return rec.code;
  }
  return 'EUNKNOWN';
}
