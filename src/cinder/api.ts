import { failedPrecondition } from '../util/errors.js';
import type { AuthProvider, AuthSession } from './auth.js';
import { CinderError, isUnauthorized } from './errors.js';
import type { HttpMethod } from './http.js';
import {
  MicroversionError,
  featuresFor,
  negotiate,
  parseVersionDocument,
  versionRootOf,
  type CinderFeatures,
} from './microversion.js';
import { awaitShared, malformed, parseJsonBody, performRequest, type CallOptions, type RequestDeps, type RequestSpec } from './request.js';
import { ShapeError } from './types.js';

/**
 * The authenticated, version-pinned request path every resource module uses:
 * session → `X-Auth-Token` + `OpenStack-API-Version: volume X.Y` → performRequest (retries) →
 * on 401 one shared re-authentication and one replay → JSON body.
 */

export interface ApiRequest {
  method: HttpMethod;
  /** Template for metrics/logs/errors: `/volumes/{id}`. */
  route: string;
  /** Path below the endpoint, ids already encoded: `/volumes/3f…`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Default: everything but POST. Idempotent POST actions (os-complete, os-extend) say so. */
  idempotent?: boolean;
}

export interface ApiResponse {
  status: number;
  /**
   * The parsed JSON body, parsed on first access: void calls (DELETE, actions) never fail on a
   * body they do not need (Cinder answers those with an empty text/html body).
   */
  readonly body: unknown;
}

export function encodeId(id: string): string {
  return encodeURIComponent(id);
}

export function buildQuery(query: ApiRequest['query']): string {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) p.append(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export class CinderApi {
  private negotiated: Promise<CinderFeatures> | undefined;
  private known: CinderFeatures | undefined;

  constructor(
    readonly auth: AuthProvider,
    readonly deps: RequestDeps,
  ) {}

  /** The negotiated features, negotiating once (single flight) on first use. */
  features(opts: CallOptions = {}): Promise<CinderFeatures> {
    if (this.known) return Promise.resolve(this.known);
    if (!this.negotiated) {
      this.negotiated = this.negotiate().then(
        (f) => {
          this.known = f;
          return f;
        },
        (err: unknown) => {
          // Not cached: the next call tries again (Cinder may have been down or upgraded).
          this.negotiated = undefined;
          throw err;
        },
      );
    }
    return awaitShared(this.negotiated, opts, () => this.deadlineError('GET', '/'), this.deps.now);
  }

  private deadlineError(method: string, route: string): CinderError {
    return new CinderError({ kind: 'timeout', method, route, message: 'Cinder gave no answer before the caller\'s deadline' });
  }

  private async negotiate(): Promise<CinderFeatures> {
    const session = await this.auth.session({ deadline: this.deps.now() + this.deps.requestTimeoutMs });
    const budget = (): number => this.deps.now() + this.deps.requestTimeoutMs;
    const root = versionRootOf(session.endpoint);
    let doc: unknown;
    const spec = { service: 'cinder' as const, method: 'GET' as const, route: '/', url: root, idempotent: true, alsoOk: [300], deadline: budget() };
    try {
      // The version document lives outside the authenticated pipeline: no token is sent.
      doc = parseJsonBody(this.deps, spec, await performRequest(this.deps, spec));
      parseVersionDocument(doc);
    } catch (err) {
      if (err instanceof CinderError && err.kind !== 'http' && err.kind !== 'malformed') throw err;
      // Some proxies only expose the versioned path: `GET /v3/` answers `{"version":{…}}`.
      const v3 = `${root.replace(/\/+$/, '')}/v3/`;
      const spec2 = { ...spec, route: '/v3/', url: v3, headers: { 'X-Auth-Token': session.token }, deadline: budget() };
      this.deps.scrubber.addToken(session.token);
      doc = parseJsonBody(this.deps, spec2, await performRequest(this.deps, spec2));
    }
    try {
      const range = parseVersionDocument(doc);
      const chosen = negotiate(range);
      const f = featuresFor(chosen, range.max);
      this.deps.log.info({ microversion: f.microversion, serverMax: f.serverMaxVersion }, 'cinder: API microversion negotiated');
      return f;
    } catch (err) {
      if (err instanceof MicroversionError) throw failedPrecondition(err.message);
      throw err;
    }
  }

  async send(req: ApiRequest, opts: CallOptions = {}): Promise<ApiResponse> {
    const features = await this.features(opts);
    let session = await this.auth.session(opts);
    try {
      return await this.attempt(req, session, features, opts);
    } catch (err) {
      if (!isUnauthorized(err)) throw err;
      // The token was revoked or expired early: one shared re-authentication, one replay.
      const fresh = await this.auth.reauthenticate(session, opts);
      if (!fresh || fresh.token === session.token) throw err;
      this.deps.log.info({ method: req.method, route: req.route }, 'cinder: token refused, replaying with a new token');
      session = fresh;
      return await this.attempt(req, session, features, opts);
    }
  }

  private async attempt(req: ApiRequest, session: AuthSession, features: CinderFeatures, opts: CallOptions): Promise<ApiResponse> {
    const spec: RequestSpec = {
      service: 'cinder',
      method: req.method,
      route: req.route,
      url: `${session.endpoint}${req.path}${buildQuery(req.query)}`,
      headers: { 'X-Auth-Token': session.token, 'OpenStack-API-Version': `volume ${features.microversion}` },
      body: req.body,
      idempotent: req.idempotent ?? req.method !== 'POST',
      signal: opts.signal,
      deadline: opts.deadline,
    };
    const res = await performRequest(this.deps, spec);
    const deps = this.deps;
    let parsed: { value: unknown } | undefined;
    return {
      status: res.status,
      get body(): unknown {
        parsed ??= { value: parseJsonBody(deps, spec, res) };
        return parsed.value;
      },
    };
  }

  /** Runs a response parser; a shape mismatch becomes an INTERNAL-kind CinderError naming the field. */
  parse<T>(req: Pick<ApiRequest, 'method' | 'route'>, res: ApiResponse, fn: (body: unknown) => T): T {
    try {
      return fn(res.body);
    } catch (err) {
      if (err instanceof ShapeError) throw malformed(this.deps, { service: 'cinder', ...req }, res.status, err.message);
      throw err;
    }
  }

  /** The project the token is scoped to (quota calls need it in the path). */
  async projectId(opts: CallOptions = {}): Promise<string | undefined> {
    return (await this.auth.session(opts)).projectId;
  }
}
