import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from './errors.js';

/** The parts of an HTTP request the handlers need, with the body already read. */
export interface ApiRequest {
  method: string;
  /** Path without the query string, percent-decoded per segment by the router. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** scheme://host[:port] as the client addressed us (links are built from it, like Cinder does). */
  origin: string;
  /** Route parameters ({id}, {key}, ...). */
  params: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON (Content-Type application/json) when present. */
  json?: unknown;
  /** Sent as is with `contentType` when json is absent (e.g. Cinder's empty text/html 202). */
  text?: string;
  contentType?: string;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, json: body, headers };
}

/** Cinder's empty answers (202 of DELETE and of most actions) are text/html with no body. */
export function emptyHtml(status: number): ApiResponse {
  return { status, text: '', contentType: 'text/html; charset=UTF-8' };
}

export function noContent(headers: Record<string, string> = {}): ApiResponse {
  return { status: 204, headers };
}

export function header(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Parses the JSON body; an empty body is `undefined`, anything unparsable is "Malformed request body". */
export function jsonBody(req: ApiRequest): unknown {
  if (req.rawBody.length === 0) return undefined;
  try {
    return JSON.parse(req.rawBody.toString('utf8')) as unknown;
  } catch {
    throw badRequest('Malformed request body');
  }
}

const MAX_BODY = 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function writeResponse(res: ServerResponse, r: ApiResponse, extraHeaders: Record<string, string>): void {
  const headers: Record<string, string> = { ...extraHeaders, ...(r.headers ?? {}) };
  let payload: Buffer | undefined;
  if (r.json !== undefined) {
    payload = Buffer.from(JSON.stringify(r.json));
    headers['Content-Type'] = 'application/json';
  } else if (r.text !== undefined) {
    payload = Buffer.from(r.text);
    if (r.contentType) headers['Content-Type'] = r.contentType;
  }
  if (r.status !== 204) headers['Content-Length'] = String(payload?.length ?? 0);
  res.writeHead(r.status, headers);
  res.end(r.status === 204 ? undefined : payload);
}
