import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Env } from './env.js';
import { ApiError } from './errors.js';
import { readBody, writeResponse, type ApiRequest, type ApiResponse } from './http.js';
import { newUuid } from './ids.js';

/**
 * The request path shared by the Cinder and Keystone ports: read the body, resolve the route,
 * count it, apply injected faults (latency, hang, rate limit, 5xx, lost reply), run the handler,
 * turn ApiError into its envelope, write. Hung requests stay open until stop() closes the sockets.
 */

export interface Dispatch {
  /** Stats key ("GET /volumes/detail"); "UNMATCHED" when no route matched. */
  key: string;
  /** Route template for fault matching; undefined = never faulted (unknown paths, admin routes). */
  template?: string;
  /** Whether the top-level (global) faults apply. */
  globalFaults: boolean;
  run(): ApiResponse | Promise<ApiResponse>;
  /** The service's envelope for an injected 5xx / rate limit. */
  faultError(status: number): ApiError;
  rateLimitError(status: number, retryAfterSeconds: number): ApiError;
  /** Headers on every answer (request id, microversion echo…), computed after run(). */
  headers(): Record<string, string>;
}

export type Resolver = (req: ApiRequest) => Dispatch;

export function toApiRequest(req: IncomingMessage, body: Buffer, fallbackHost: string): ApiRequest {
  const url = new URL(req.url ?? '/', 'http://placeholder');
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    rawBody: body,
    origin: `http://${req.headers.host ?? fallbackHost}`,
    params: {},
  };
}

export function errorResponse(err: unknown): ApiResponse {
  if (err instanceof ApiError) return { status: err.status, json: err.body, headers: err.headers };
  console.error(`cinder emulator: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return {
    status: 500,
    json: {
      computeFault: {
        code: 500,
        message: 'The server has either erred or is incapable of performing the requested operation.',
      },
    },
  };
}

export function requestListener(
  env: Env,
  fallbackHost: () => string,
  resolve: Resolver,
  count: (key: string) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch {
        res.destroy();
        return;
      }
      const apiReq = toApiRequest(req, body, fallbackHost());
      const d = resolve(apiReq);
      count(d.key);
      const decision = d.template
        ? env.faults.decide(apiReq.method, d.template, d.globalFaults)
        : { latencyMs: 0, hang: false, loseReply: false };
      if (decision.latencyMs > 0) {
        env.stats.fault('latency');
        await sleep(decision.latencyMs);
      }
      if (decision.hang) {
        env.stats.fault('hang');
        return;
      }
      let answer: ApiResponse;
      if (decision.rateLimit) {
        env.stats.fault('rateLimit');
        answer = errorResponse(d.rateLimitError(decision.rateLimit.status, decision.rateLimit.retryAfterSeconds));
      } else if (decision.error) {
        env.stats.fault('error');
        answer = errorResponse(d.faultError(decision.error.status));
      } else {
        try {
          answer = await d.run();
        } catch (err) {
          answer = errorResponse(err);
        }
      }
      if (decision.loseReply) {
        env.stats.fault('loseReply');
        req.socket.destroy();
        return;
      }
      if (res.destroyed) return;
      env.stats.response(answer.status);
      writeResponse(res, answer, { 'x-openstack-request-id': `req-${newUuid()}`, ...d.headers() });
    })().catch((err: unknown) => {
      console.error(`cinder emulator: ${String(err)}`);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
    });
  };
}
