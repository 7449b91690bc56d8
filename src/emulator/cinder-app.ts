import { authenticate } from './auth.js';
import { cinderRouter } from './cinder-routes.js';
import type { CinderContext, CinderHandler, Env } from './env.js';
import { badRequest, overLimit, routerNotFound, serverError } from './errors.js';
import { json, type ApiRequest, type ApiResponse } from './http.js';
import { formatVersion, negotiate, type Version } from './microversion.js';
import type { Dispatch } from './pipeline.js';
import type { RouteMatch } from './router.js';
import { versionDocument } from './versions.js';

/**
 * Cinder's request handling, in the order of the real paste pipeline: auth middleware (noauth or
 * keystonemiddleware) → router → microversion check → project check → controller. `/` (the
 * version document) is outside the authenticated pipeline.
 */

const PROJECT_RE = /^[0-9a-f-]+$/;

interface Resolved {
  match?: RouteMatch<CinderHandler>;
  /** The {project_id} of /v3/{project_id}/…, when the URL had one. */
  project?: string;
  /** GET / (unauthenticated, 300) or GET /v3/ (authenticated, 200). */
  versions?: 'root' | 'v3';
}

/** `keystoneBase` is read per request: undefined = noauth, else the Keystone root for WWW-Authenticate. */
export function cinderResolver(env: Env, keystoneBase: () => string | undefined): (req: ApiRequest) => Dispatch {
  const router = cinderRouter();

  function resolve(req: ApiRequest): Resolved {
    const path = req.path;
    if (path === '/' || path === '') return req.method === 'GET' ? { versions: 'root' } : {};
    if (path !== '/v3' && !path.startsWith('/v3/')) return {};
    const rest = path.slice(3);
    if (rest === '' || rest === '/') return req.method === 'GET' ? { versions: 'v3' } : {};
    const segs = rest.split('/');
    const first = segs[1] ?? '';
    if (PROJECT_RE.test(first)) {
      const match = router.match(req.method, `/${segs.slice(2).join('/')}`);
      if (match) return { match, project: first };
    }
    const match = router.match(req.method, rest);
    return match ? { match } : {};
  }

  return (req) => {
    const r = resolve(req);
    const key = r.versions === 'root' ? 'GET /' : r.versions === 'v3' ? 'GET /v3/' : (r.match?.key ?? 'UNMATCHED');
    let version: Version | undefined;
    const run = async (): Promise<ApiResponse> => {
      if (r.versions === 'root') return json(300, versionDocument(req, env.maxVersion));
      const auth = authenticate(req, env, keystoneBase());
      if ('response' in auth) return auth.response;
      if (!r.match && !r.versions) throw routerNotFound();
      version = negotiate(req.headers['openstack-api-version']?.toString(), env.maxVersion);
      if (r.versions === 'v3') return json(200, versionDocument(req, env.maxVersion));
      if (r.project !== undefined && r.project !== auth.identity.projectId) throw badRequest('Malformed request url');
      const ctx: CinderContext = { ...auth.identity, version };
      const match = r.match;
      if (!match) throw routerNotFound();
      req.params = match.params;
      return match.route.handler(req, ctx, env);
    };
    return {
      key,
      ...(r.match ? { template: r.match.route.template } : r.versions ? { template: r.versions === 'root' ? '/' : '/v3/' } : {}),
      globalFaults: true,
      run,
      faultError: (status) => serverError(status),
      rateLimitError: (status, ra) => overLimit('This request was rate-limited.', ra, status),
      headers: (): Record<string, string> =>
        version ? { 'OpenStack-API-Version': `volume ${formatVersion(version)}`, Vary: 'OpenStack-API-Version' } : {},
    };
  };
}
