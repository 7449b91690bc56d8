import { CatalogError, findEndpoint, substituteProject } from './catalog.js';
import { InvalidClientConfigError, type CinderClientConfig } from './config.js';
import { KeystoneError } from './errors.js';
import { awaitShared, malformed, parseJsonBody, performRequest, type CallOptions, type RequestDeps } from './request.js';

/**
 * Token providers. Keystone: v3 password (user and project by name or id, with domains) or
 * application credential (never with a scope: Keystone refuses one). The token is cached and
 * refreshed ahead of `expires_at`; after a 401 from Cinder exactly one re-authentication runs,
 * shared by every request that saw the 401 (single flight). noauth: the `<user>:<project>`
 * token Cinder's noauth middleware expects, and the configured endpoint.
 */

export interface AuthSession {
  token: string;
  /** The Cinder endpoint to use with this token (`…/v3/<project>` or `…/v3`). */
  endpoint: string;
  projectId?: string;
  /** Epoch milliseconds; undefined = does not expire (noauth). */
  expiresAt?: number;
  issuedAt?: number;
}

export interface AuthProvider {
  readonly strategy: 'keystone' | 'noauth';
  /** A usable session, authenticating first when needed. */
  session(opts?: CallOptions): Promise<AuthSession>;
  /**
   * After a 401 answered to `stale`: a new session (shared by all callers that saw the same 401),
   * or undefined when re-authenticating cannot help (noauth).
   */
  reauthenticate(stale: AuthSession, opts?: CallOptions): Promise<AuthSession | undefined>;
  /** Authentications performed so far (tests count them). */
  authentications(): number;
}

type DomainRef = { id: string } | { name: string };

function domainRef(id: string | undefined, name: string | undefined): DomainRef | undefined {
  if (id) return { id };
  if (name) return { name };
  return undefined;
}

/** The body of `POST /v3/auth/tokens` for the configured method; validates the config on the way. */
export function buildAuthRequest(c: CinderClientConfig): { method: 'password' | 'application_credential'; body: Record<string, unknown> } {
  if (c.applicationCredentialId || c.applicationCredentialName) {
    if (!c.applicationCredentialSecret) {
      throw new InvalidClientConfigError('application-credential-secret is required with an application credential');
    }
    let cred: Record<string, unknown>;
    if (c.applicationCredentialId) {
      cred = { id: c.applicationCredentialId, secret: c.applicationCredentialSecret };
    } else {
      // By name, the credential is looked up among the user's: the user must be identified.
      let user: Record<string, unknown>;
      if (c.userId) user = { id: c.userId };
      else if (c.username) {
        const domain = domainRef(c.userDomainId, c.userDomainName);
        if (!domain) throw new InvalidClientConfigError('user-domain-name or user-domain-id is required with application-credential-name and username');
        user = { name: c.username, domain };
      } else throw new InvalidClientConfigError('application-credential-name needs username or user-id');
      cred = { name: c.applicationCredentialName, user, secret: c.applicationCredentialSecret };
    }
    // No `scope`: an application credential is bound to its project and Keystone answers 401
    // "Application credentials cannot request a scope" when one is sent.
    return {
      method: 'application_credential',
      body: { auth: { identity: { methods: ['application_credential'], application_credential: cred } } },
    };
  }
  if (!c.password) throw new InvalidClientConfigError('keystone auth needs password (or an application credential)');
  let user: Record<string, unknown>;
  if (c.userId) user = { id: c.userId, password: c.password };
  else if (c.username) {
    // A lone domain is commonly given once for both user and project.
    const domain = domainRef(c.userDomainId, c.userDomainName) ?? domainRef(c.projectDomainId, c.projectDomainName);
    if (!domain) throw new InvalidClientConfigError('user-domain-name or user-domain-id is required with username');
    user = { name: c.username, domain, password: c.password };
  } else throw new InvalidClientConfigError('keystone password auth needs username or user-id');
  let project: Record<string, unknown>;
  if (c.projectId) project = { id: c.projectId };
  else if (c.projectName) {
    const domain = domainRef(c.projectDomainId, c.projectDomainName) ?? domainRef(c.userDomainId, c.userDomainName);
    if (!domain) throw new InvalidClientConfigError('project-domain-name or project-domain-id is required with project-name');
    project = { name: c.projectName, domain };
  } else throw new InvalidClientConfigError('keystone password auth needs project-name or project-id (Cinder needs a project-scoped token)');
  return {
    method: 'password',
    body: { auth: { identity: { methods: ['password'], password: { user } }, scope: { project } } },
  };
}

/** `http://ks:5000`, `http://ks:5000/`, `http://ks:5000/v3/` → `http://ks:5000/v3`. */
export function keystoneV3Base(authUrl: string): string {
  const trimmed = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

/** How long before `expires_at` a token is renewed: a tenth of its life, at most a minute. */
export function refreshMargin(s: Pick<AuthSession, 'expiresAt' | 'issuedAt'>, now: number): number {
  if (s.expiresAt === undefined) return 0;
  const life = s.expiresAt - (s.issuedAt ?? now);
  return Math.min(60_000, Math.max(0, life / 10));
}

export class KeystoneAuth implements AuthProvider {
  readonly strategy = 'keystone' as const;
  private current: AuthSession | undefined;
  private inflight: Promise<AuthSession> | undefined;
  private count = 0;
  private readonly request: ReturnType<typeof buildAuthRequest>;
  private readonly base: string;

  constructor(
    private readonly config: CinderClientConfig,
    private readonly deps: RequestDeps,
  ) {
    if (!config.authUrl) throw new InvalidClientConfigError('auth-url is required with auth-strategy keystone');
    try {
      this.base = keystoneV3Base(new URL(config.authUrl).toString());
    } catch {
      throw new InvalidClientConfigError('auth-url is not a valid URL');
    }
    this.request = buildAuthRequest(config);
    deps.scrubber.add(config.password);
    deps.scrubber.add(config.applicationCredentialSecret);
  }

  authentications(): number {
    return this.count;
  }

  async session(opts: CallOptions = {}): Promise<AuthSession> {
    const cur = this.current;
    const now = this.deps.now();
    if (cur && (cur.expiresAt === undefined || now < cur.expiresAt - refreshMargin(cur, now))) return cur;
    if (cur && cur.expiresAt !== undefined && now < cur.expiresAt) {
      // Inside the renewal margin but still valid: renew in the background, keep serving.
      this.refresh().catch((err: unknown) => this.deps.log.warn({ err }, 'keystone: token renewal failed; the current token is still valid'));
      return cur;
    }
    return this.wait(this.refresh(), opts);
  }

  async reauthenticate(stale: AuthSession, opts: CallOptions = {}): Promise<AuthSession> {
    // Someone already replaced the token that got the 401: use theirs, no second POST.
    if (this.current && this.current.token !== stale.token) return this.current;
    return this.wait(this.refresh(), opts);
  }

  private wait(p: Promise<AuthSession>, opts: CallOptions): Promise<AuthSession> {
    return awaitShared(
      p,
      opts,
      () => new KeystoneError({ kind: 'timeout', method: 'POST', route: '/auth/tokens', message: 'Keystone gave no token before the caller\'s deadline' }),
      this.deps.now,
    );
  }

  /** Single flight: concurrent callers share one POST /auth/tokens. */
  private refresh(): Promise<AuthSession> {
    if (!this.inflight) {
      this.inflight = this.authenticate().finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private async authenticate(): Promise<AuthSession> {
    const spec = {
      service: 'keystone' as const,
      method: 'POST' as const,
      route: '/auth/tokens',
      url: `${this.base}/auth/tokens`,
      body: this.request.body,
      // Issuing a token twice is harmless, so lost replies are retried. The shared request is
      // bounded by its own budget, not by the first caller's deadline.
      idempotent: true,
      deadline: this.deps.now() + this.deps.requestTimeoutMs,
    };
    this.count++;
    const res = await performRequest(this.deps, spec);
    const token = res.headers['x-subject-token'];
    if (!token) throw malformed(this.deps, spec, res.status, 'no X-Subject-Token header');
    this.deps.scrubber.addToken(token);
    const body = parseJsonBody(this.deps, spec, res);
    const tok = body && typeof body === 'object' ? (body as { token?: unknown }).token : undefined;
    if (!tok || typeof tok !== 'object') throw malformed(this.deps, spec, res.status, 'no token object in the body');
    const t = tok as Record<string, unknown>;
    const expiresAt = typeof t.expires_at === 'string' ? Date.parse(t.expires_at) : NaN;
    const issuedAt = typeof t.issued_at === 'string' ? Date.parse(t.issued_at) : NaN;
    const project = t.project && typeof t.project === 'object' ? (t.project as Record<string, unknown>) : undefined;
    const projectId = typeof project?.id === 'string' ? project.id : undefined;
    let endpoint: string;
    try {
      endpoint = this.config.cinderEndpoint ? substituteProject(this.config.cinderEndpoint, projectId) : findEndpoint(t.catalog, { region: this.config.region, interface: this.config.interface });
    } catch (err) {
      if (err instanceof CatalogError) throw malformed(this.deps, spec, res.status, err.message);
      throw err;
    }
    const now = this.deps.now();
    // Clock skew between us and Keystone: keep the token's life as Keystone states it, but count
    // it from our own clock.
    const life = !Number.isNaN(expiresAt) && !Number.isNaN(issuedAt) ? expiresAt - issuedAt : undefined;
    const session: AuthSession = {
      token,
      endpoint: endpoint.replace(/\/+$/, ''),
      projectId,
      expiresAt: life !== undefined ? now + life : Number.isNaN(expiresAt) ? undefined : expiresAt,
      issuedAt: now,
    };
    this.current = session;
    this.deps.log.info(
      { method: this.request.method, projectId, endpoint: session.endpoint, expiresAt: session.expiresAt ? new Date(session.expiresAt).toISOString() : undefined },
      'keystone: authenticated',
    );
    return session;
  }
}

/** The project a noauth endpoint names: its last path segment after `/v3`, if any. */
export function projectFromEndpoint(endpoint: string): string | undefined {
  const m = /\/v3\/([^/]+)\/*$/.exec(new URL(endpoint).pathname);
  return m?.[1];
}

export class NoAuth implements AuthProvider {
  readonly strategy = 'noauth' as const;
  private readonly s: AuthSession;

  constructor(config: CinderClientConfig) {
    if (!config.cinderEndpoint) throw new InvalidClientConfigError('cinder-endpoint is required with auth-strategy noauth');
    let fromUrl: string | undefined;
    try {
      fromUrl = projectFromEndpoint(config.cinderEndpoint);
    } catch {
      throw new InvalidClientConfigError('cinder-endpoint is not a valid URL');
    }
    if (fromUrl && config.projectId && fromUrl !== config.projectId) {
      // Cinder answers 400 "Malformed request url" when the URL project differs from the token's.
      throw new InvalidClientConfigError('project-id differs from the project at the end of cinder-endpoint');
    }
    const project = config.projectId ?? fromUrl;
    if (!project) throw new InvalidClientConfigError('noauth needs project-id or a cinder-endpoint ending in /v3/<project id>');
    const user = config.username ?? config.userId ?? 'admin';
    this.s = { token: `${user}:${project}`, endpoint: config.cinderEndpoint.replace(/\/+$/, ''), projectId: project };
  }

  session(): Promise<AuthSession> {
    return Promise.resolve(this.s);
  }

  reauthenticate(): Promise<AuthSession | undefined> {
    return Promise.resolve(undefined);
  }

  authentications(): number {
    return 0;
  }
}
