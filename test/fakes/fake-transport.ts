import { TransportError, type HttpRequest, type HttpResponse, type HttpTransport } from '../../src/cinder/http.js';

/**
 * Test support: a scripted HttpTransport. Routes match by method and URL pattern; each route
 * serves its replies in order and repeats the last one. Unmatched requests get Cinder's 404.
 */
export type FakeReply = HttpResponse | TransportError | ((req: HttpRequest) => HttpResponse | TransportError | Promise<HttpResponse | TransportError>);

interface FakeRoute {
  method: string;
  pattern: RegExp;
  replies: FakeReply[];
  served: number;
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, text: body === undefined ? '' : JSON.stringify(body) };
}

export function cinderFault(status: number, code: string, message: string, headers: Record<string, string> = {}): HttpResponse {
  return jsonReply(status, { [code]: { code: status, message } }, headers);
}

export class FakeTransport implements HttpTransport {
  readonly requests: HttpRequest[] = [];
  private readonly routes: FakeRoute[] = [];
  closed = false;

  /** Later registrations win over earlier ones for the same request. */
  on(method: string, pattern: RegExp, ...replies: FakeReply[]): this {
    this.routes.unshift({ method, pattern, replies, served: 0 });
    return this;
  }

  count(method: string, pattern: RegExp): number {
    return this.requests.filter((r) => r.method === method && pattern.test(r.url)).length;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    const route = this.routes.find((r) => r.method === req.method && r.pattern.test(req.url));
    if (!route || route.replies.length === 0) return cinderFault(404, 'itemNotFound', `no fake route for ${req.method} ${req.url}`);
    const reply = route.replies[Math.min(route.served, route.replies.length - 1)] as FakeReply;
    route.served++;
    const out = typeof reply === 'function' ? await reply(req) : reply;
    if (out instanceof TransportError) throw out;
    return out;
  }

  close(): void {
    this.closed = true;
  }
}

/** The real Cinder's version document (GET / → 300), with a chosen maximum. */
export function versionDocument(max = '3.70', min = '3.0'): HttpResponse {
  return jsonReply(300, {
    versions: [{ id: 'v3.0', status: 'CURRENT', version: max, min_version: min, updated: '2022-08-31T00:00:00Z', links: [] }],
  });
}

export function networkError(code = 'ECONNRESET', maybeSent = true): TransportError {
  return new TransportError('network', code, maybeSent, `connection failed (${code})`);
}

export function timeoutError(ms = 1000): TransportError {
  return new TransportError('timeout', 'ETIMEDOUT', true, `no answer within ${ms} ms`);
}
