import { keystoneTime } from './clock.js';
import type { Env } from './env.js';
import { ApiError, keystoneError, UNAUTHORIZED_MESSAGE } from './errors.js';
import { header, json, jsonBody, noContent, type ApiRequest, type ApiResponse } from './http.js';
import { stableHexId } from './ids.js';
import type { AppCredential, Project, Role, TokenRecord, User } from './identity.js';
import type { Dispatch } from './pipeline.js';
import { Router } from './router.js';
import { isObject, type JsonObject } from './validate.js';

/**
 * Keystone v3, the parts a CSI controller uses: the version document, password and
 * application-credential tokens (project-scoped, with a catalog listing Cinder as `volumev3` and
 * `block-storage`), token validation and revocation, and creating application credentials.
 */

export interface ServiceUrls {
  /** http://HOST:CINDER_PORT */
  cinder: string;
  /** http://HOST:KEYSTONE_PORT */
  keystone: string;
}

type KsHandler = (req: ApiRequest) => ApiResponse;

const unauthorized = (message = UNAUTHORIZED_MESSAGE): ApiError => keystoneError(401, 'Unauthorized', message);
const badRequest = (message: string): ApiError => keystoneError(400, 'Bad Request', message);
const forbidden = (action: string): ApiError =>
  keystoneError(403, 'Forbidden', `You are not authorized to perform the requested action: ${action}.`);

function versionEntry(origin: string): Record<string, unknown> {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${origin}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

function endpoints(service: string, url: string): Array<Record<string, string>> {
  return ['public', 'internal', 'admin'].map((iface) => ({
    id: stableHexId(`endpoint:${service}:${iface}`),
    interface: iface,
    region_id: 'RegionOne',
    region: 'RegionOne',
    url,
  }));
}

function catalog(urls: ServiceUrls, projectId: string): unknown[] {
  const cinder = `${urls.cinder}/v3/${projectId}`;
  return [
    { type: 'volumev3', name: 'cinderv3', id: stableHexId('service:volumev3'), endpoints: endpoints('volumev3', cinder) },
    { type: 'block-storage', name: 'cinder', id: stableHexId('service:block-storage'), endpoints: endpoints('block-storage', cinder) },
    { type: 'identity', name: 'keystone', id: stableHexId('service:identity'), endpoints: endpoints('identity', `${urls.keystone}/v3/`) },
  ];
}

function domainRef(d: { id: string; name: string }): Record<string, string> {
  return { id: d.id, name: d.name };
}

function tokenBody(t: TokenRecord, urls: ServiceUrls, withCatalog: boolean): Record<string, unknown> {
  const token: Record<string, unknown> = {
    methods: t.methods,
    user: { domain: domainRef(t.user.domain), id: t.user.id, name: t.user.name, password_expires_at: null },
    audit_ids: [t.auditId],
    expires_at: keystoneTime(t.expiresAt),
    issued_at: keystoneTime(t.issuedAt),
    project: { domain: domainRef(t.project.domain), id: t.project.id, name: t.project.name },
    is_domain: false,
    roles: t.roles.map((r) => ({ id: r.id, name: r.name })),
  };
  if (withCatalog) token.catalog = catalog(urls, t.project.id);
  if (t.appCredential) {
    token.application_credential = { id: t.appCredential.id, name: t.appCredential.name, restricted: !t.appCredential.unrestricted };
  }
  return { token };
}

function refOf(o: JsonObject, what: string): { id?: string; name?: string; domainId?: string; domainName?: string } {
  if (typeof o.id === 'string') return { id: o.id };
  if (typeof o.name !== 'string') throw badRequest(`Expecting to find id or name in ${what}.`);
  const d = o.domain;
  if (!isObject(d) || (typeof d.id !== 'string' && typeof d.name !== 'string')) {
    throw badRequest(
      `Expecting to find domain in ${what}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
    );
  }
  return {
    name: o.name,
    ...(typeof d.id === 'string' ? { domainId: d.id } : {}),
    ...(typeof d.name === 'string' ? { domainName: d.name } : {}),
  };
}

export function keystoneResolver(env: Env, urls: ServiceUrls, ttlSeconds: () => number): (req: ApiRequest) => Dispatch {
  const id = env.identity;

  function callerToken(req: ApiRequest): TokenRecord {
    const t = id.validForKeystone(header(req, 'x-auth-token') ?? '');
    if (!t) throw unauthorized();
    return t;
  }

  function passwordAuth(identity: JsonObject, scope: JsonObject | undefined): TokenRecord {
    const pw = identity.password;
    if (!isObject(pw) || !isObject(pw.user)) throw badRequest("Expecting to find user in password.");
    const user = id.findUser(refOf(pw.user, 'user'));
    if (!user || typeof pw.user.password !== 'string' || !id.checkPassword(user, pw.user.password)) throw unauthorized();
    let project: Project = user.project;
    if (scope !== undefined) {
      if (!isObject(scope.project)) throw unauthorized();
      const p = id.findProject(refOf(scope.project, 'project'));
      // The user has roles on its own project only.
      if (!p || p.id !== user.project.id) throw unauthorized();
      project = p;
    }
    return id.issueToken(user, project, user.roles, ['password'], ttlSeconds());
  }

  function appCredentialAuth(identity: JsonObject, scope: JsonObject | undefined): TokenRecord {
    if (scope !== undefined) {
      throw unauthorized('Error authenticating with application credential: Application credentials cannot request a scope.');
    }
    const ac = identity.application_credential;
    if (!isObject(ac) || typeof ac.secret !== 'string') throw unauthorized();
    let cred: AppCredential | undefined;
    if (typeof ac.id === 'string') cred = id.appCredentials.get(ac.id);
    else if (typeof ac.name === 'string' && isObject(ac.user)) {
      const user = id.findUser(refOf(ac.user, 'user'));
      cred = user ? [...id.appCredentials.values()].find((c) => c.userId === user.id && c.name === ac.name) : undefined;
    }
    if (!cred || !id.checkSecret(cred, ac.secret)) throw unauthorized();
    if (cred.expiresAt !== null && Date.now() >= cred.expiresAt) throw unauthorized();
    const user = id.users.get(cred.userId);
    const project = id.projects.get(cred.projectId);
    if (!user || !project) throw unauthorized();
    return id.issueToken(user, project, cred.roles, ['application_credential'], ttlSeconds(), cred);
  }

  const issue: KsHandler = (req) => {
    const body = jsonBody(req);
    if (!isObject(body) || !isObject(body.auth) || !isObject(body.auth.identity)) {
      throw badRequest("Invalid input for field 'identity': 'identity' is a required property");
    }
    const identity = body.auth.identity;
    const methods = identity.methods;
    if (!Array.isArray(methods) || methods.length === 0) {
      throw badRequest("Invalid input for field 'identity/methods': 'methods' is a required property");
    }
    const rawScope = body.auth.scope;
    const scope = rawScope === undefined ? undefined : isObject(rawScope) ? rawScope : {};
    let t: TokenRecord;
    if (methods.includes('application_credential')) t = appCredentialAuth(identity, scope);
    else if (methods.includes('password')) t = passwordAuth(identity, scope);
    else throw unauthorized();
    return json(201, tokenBody(t, urls, !req.query.has('nocatalog')), { 'X-Subject-Token': t.id });
  };

  const validate: KsHandler = (req) => {
    callerToken(req);
    const subject = header(req, 'x-subject-token') ?? '';
    const t = id.validForKeystone(subject);
    if (!t) throw keystoneError(404, 'Not Found', `Could not find token: ${subject}.`);
    return json(200, tokenBody(t, urls, !req.query.has('nocatalog')));
  };

  const revoke: KsHandler = (req) => {
    callerToken(req);
    const subject = header(req, 'x-subject-token') ?? '';
    const t = id.validForKeystone(subject);
    if (!t) throw keystoneError(404, 'Not Found', `Could not find token: ${subject}.`);
    t.revokedAt = Date.now();
    return noContent();
  };

  function credView(c: AppCredential, origin: string): Record<string, unknown> {
    return {
      id: c.id,
      name: c.name,
      description: c.description,
      user_id: c.userId,
      project_id: c.projectId,
      roles: c.roles.map((r) => ({ id: r.id, name: r.name, domain_id: null })),
      expires_at: c.expiresAt === null ? null : keystoneTime(c.expiresAt),
      unrestricted: c.unrestricted,
      access_rules: [],
      links: { self: `${origin}/v3/users/${c.userId}/application_credentials/${c.id}` },
    };
  }

  function ownUser(req: ApiRequest, action: string): { t: TokenRecord; user: User } {
    const t = callerToken(req);
    const user = id.users.get(req.params.user_id ?? '');
    if (!user || user.id !== t.user.id || (t.appCredential && !t.appCredential.unrestricted)) throw forbidden(action);
    return { t, user };
  }

  const createCred: KsHandler = (req) => {
    const { t, user } = ownUser(req, 'identity:create_application_credential');
    const body = jsonBody(req);
    if (!isObject(body) || !isObject(body.application_credential)) {
      throw badRequest("Invalid input for field 'application_credential': 'application_credential' is a required property");
    }
    const ac = body.application_credential;
    if (typeof ac.name !== 'string' || ac.name === '') throw badRequest("Invalid input for field 'name': 'name' is a required property");
    const name = ac.name;
    if ([...id.appCredentials.values()].some((c) => c.userId === user.id && c.name === name)) {
      throw keystoneError(409, 'Conflict', 'Conflict occurred attempting to store application_credential - Duplicate entry.');
    }
    let roles: Role[] = t.roles;
    if (Array.isArray(ac.roles)) {
      roles = ac.roles.map((r) => {
        const found = isObject(r) ? t.roles.find((x) => x.id === r.id || x.name === r.name) : undefined;
        if (!found) throw forbidden('identity:create_application_credential');
        return found;
      });
    }
    const expiresAt = typeof ac.expires_at === 'string' ? Date.parse(ac.expires_at) : null;
    const { cred, secret } = id.createAppCredential(user, name, {
      description: typeof ac.description === 'string' ? ac.description : null,
      roles,
      expiresAt: expiresAt !== null && !Number.isNaN(expiresAt) ? expiresAt : null,
      unrestricted: ac.unrestricted === true,
      ...(typeof ac.secret === 'string' ? { secret: ac.secret } : {}),
    });
    return json(201, { application_credential: { ...credView(cred, req.origin), secret } });
  };

  const listCreds: KsHandler = (req) => {
    const { user } = ownUser(req, 'identity:list_application_credentials');
    const creds = [...id.appCredentials.values()].filter((c) => c.userId === user.id);
    return json(200, { application_credentials: creds.map((c) => credView(c, req.origin)), links: { self: `${req.origin}${req.path}`, previous: null, next: null } });
  };

  function credOf(req: ApiRequest, user: User): AppCredential {
    const c = id.appCredentials.get(req.params.cred_id ?? '');
    if (!c || c.userId !== user.id) {
      throw keystoneError(404, 'Not Found', `Could not find Application Credential: ${req.params.cred_id ?? ''}.`);
    }
    return c;
  }

  const showCred: KsHandler = (req) => {
    const { user } = ownUser(req, 'identity:get_application_credential');
    return json(200, { application_credential: credView(credOf(req, user), req.origin) });
  };

  const deleteCred: KsHandler = (req) => {
    const { user } = ownUser(req, 'identity:delete_application_credential');
    id.appCredentials.delete(credOf(req, user).id);
    return noContent();
  };

  const router = new Router<KsHandler>()
    .add('GET', '/', (req) => json(300, { versions: { values: [versionEntry(req.origin)] } }))
    .add('GET', '/v3', (req) => json(200, { version: versionEntry(req.origin) }))
    .add('POST', '/v3/auth/tokens', issue)
    .add('GET', '/v3/auth/tokens', validate)
    .add('DELETE', '/v3/auth/tokens', revoke)
    .add('POST', '/v3/users/{user_id}/application_credentials', createCred)
    .add('GET', '/v3/users/{user_id}/application_credentials', listCreds)
    .add('GET', '/v3/users/{user_id}/application_credentials/{cred_id}', showCred)
    .add('DELETE', '/v3/users/{user_id}/application_credentials/{cred_id}', deleteCred);

  return (req) => {
    const match = router.match(req.method, req.path);
    return {
      key: match?.key ?? 'UNMATCHED',
      ...(match ? { template: match.route.template } : {}),
      globalFaults: false,
      run: () => {
        if (!match) throw keystoneError(404, 'Not Found', 'The resource could not be found.');
        req.params = match.params;
        return match.route.handler(req);
      },
      faultError: (status) =>
        keystoneError(
          status,
          status === 503 ? 'Service Unavailable' : 'Internal Server Error',
          'An unexpected error prevented the server from fulfilling your request.',
        ),
      rateLimitError: (status, ra) =>
        keystoneError(status, status === 429 ? 'Too Many Requests' : 'Request Entity Too Large', 'This request was rate-limited.', {
          'Retry-After': String(ra),
        }),
      headers: () => ({ Vary: 'X-Auth-Token' }),
    };
  };
}
