import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { newFernetLikeToken, newHexId, stableHexId } from './ids.js';
import type { EmulatorUser } from './types.js';

/**
 * Keystone's data: domains, projects, users, role assignments, tokens and application
 * credentials. Shared by the Keystone API (keystone.ts) and Cinder's token check (auth.ts).
 */

export const DEFAULT_PROJECT_ID = '0123456789abcdef0123456789abcdef';
export const DEFAULT_USER: EmulatorUser = {
  name: 'csi',
  password: 'csi-password',
  project: 'csi',
  roles: ['member'],
};

/** keystonemiddleware caches validations for 300 s: a revoked token keeps working that long. */
export const TOKEN_CACHE_SECONDS = 300;

export interface Domain {
  id: string;
  name: string;
}
export interface Role {
  id: string;
  name: string;
}
export interface Project {
  id: string;
  name: string;
  domain: Domain;
}
export interface User {
  id: string;
  name: string;
  domain: Domain;
  passwordHash: string;
  project: Project;
  roles: Role[];
}
export interface AppCredential {
  id: string;
  name: string;
  description: string | null;
  userId: string;
  projectId: string;
  roles: Role[];
  secretHash: string;
  expiresAt: number | null;
  unrestricted: boolean;
}
export interface TokenRecord {
  id: string;
  user: User;
  project: Project;
  roles: Role[];
  methods: string[];
  issuedAt: number;
  expiresAt: number;
  auditId: string;
  appCredential?: AppCredential;
  revokedAt?: number;
  forcedExpired?: boolean;
}

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Role inference as Keystone's default implied roles: admin ⇒ member ⇒ reader. */
const IMPLIES: Record<string, string[]> = { admin: ['member', 'reader'], member: ['reader'] };

export class IdentityStore {
  readonly domains = new Map<string, Domain>();
  readonly projects = new Map<string, Project>();
  readonly users = new Map<string, User>();
  readonly roles = new Map<string, Role>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly appCredentials = new Map<string, AppCredential>();

  constructor(users: EmulatorUser[], firstProjectId: string) {
    this.domains.set('default', { id: 'default', name: 'Default' });
    users.forEach((u, i) => this.addUser(u, i === 0 ? firstProjectId : undefined));
  }

  domainByName(name: string): Domain {
    const found = [...this.domains.values()].find((d) => d.name === name);
    if (found) return found;
    const d = { id: stableHexId(`domain:${name}`), name };
    this.domains.set(d.id, d);
    return d;
  }

  role(name: string): Role {
    const found = [...this.roles.values()].find((r) => r.name === name);
    if (found) return found;
    const r = { id: stableHexId(`role:${name}`), name };
    this.roles.set(r.id, r);
    return r;
  }

  private projectFor(name: string, domain: Domain, id?: string): Project {
    const found = [...this.projects.values()].find((p) => p.name === name && p.domain.id === domain.id);
    if (found) return found;
    const p = { id: id ?? stableHexId(`project:${domain.id}:${name}`), name, domain };
    this.projects.set(p.id, p);
    return p;
  }

  private addUser(u: EmulatorUser, projectId?: string): void {
    const domain = this.domainByName(u.domain ?? 'Default');
    const project = this.projectFor(u.project, this.domainByName(u.projectDomain ?? 'Default'), projectId);
    const names = new Set<string>();
    for (const r of u.roles ?? ['member']) {
      names.add(r);
      for (const implied of IMPLIES[r] ?? []) names.add(implied);
    }
    const user: User = {
      id: stableHexId(`user:${domain.id}:${u.name}`),
      name: u.name,
      domain,
      passwordHash: hash(u.password),
      project,
      roles: [...names].map((n) => this.role(n)),
    };
    this.users.set(user.id, user);
  }

  findUser(ref: { id?: string; name?: string; domainId?: string; domainName?: string }): User | undefined {
    if (ref.id) return this.users.get(ref.id);
    return [...this.users.values()].find(
      (u) =>
        u.name === ref.name &&
        ((ref.domainId !== undefined && u.domain.id === ref.domainId) ||
          (ref.domainName !== undefined && u.domain.name === ref.domainName)),
    );
  }

  findProject(ref: { id?: string; name?: string; domainId?: string; domainName?: string }): Project | undefined {
    if (ref.id) return this.projects.get(ref.id);
    return [...this.projects.values()].find(
      (p) =>
        p.name === ref.name &&
        ((ref.domainId !== undefined && p.domain.id === ref.domainId) ||
          (ref.domainName !== undefined && p.domain.name === ref.domainName)),
    );
  }

  checkPassword(user: User, password: string): boolean {
    return sameHash(user.passwordHash, hash(password));
  }

  checkSecret(cred: AppCredential, secret: string): boolean {
    return sameHash(cred.secretHash, hash(secret));
  }

  createAppCredential(
    user: User,
    name: string,
    opts: { description?: string | null; roles?: Role[]; expiresAt?: number | null; unrestricted?: boolean; secret?: string } = {},
  ): { cred: AppCredential; secret: string } {
    const secret = opts.secret ?? randomBytes(48).toString('base64url');
    const cred: AppCredential = {
      id: newHexId(),
      name,
      description: opts.description ?? null,
      userId: user.id,
      projectId: user.project.id,
      roles: opts.roles ?? user.roles,
      secretHash: hash(secret),
      expiresAt: opts.expiresAt ?? null,
      unrestricted: opts.unrestricted ?? false,
    };
    this.appCredentials.set(cred.id, cred);
    return { cred, secret };
  }

  issueToken(
    user: User,
    project: Project,
    roles: Role[],
    methods: string[],
    ttlSeconds: number,
    appCredential?: AppCredential,
  ): TokenRecord {
    const now = Date.now();
    let expiresAt = now + ttlSeconds * 1000;
    if (appCredential?.expiresAt) expiresAt = Math.min(expiresAt, appCredential.expiresAt);
    const t: TokenRecord = {
      id: newFernetLikeToken(),
      user,
      project,
      roles,
      methods,
      issuedAt: now,
      expiresAt,
      auditId: randomBytes(16).toString('base64url').slice(0, 22),
      ...(appCredential ? { appCredential } : {}),
    };
    this.tokens.set(t.id, t);
    return t;
  }

  /** What Keystone itself says about a token (GET /v3/auth/tokens). */
  validForKeystone(id: string): TokenRecord | undefined {
    const t = this.tokens.get(id);
    if (!t || t.forcedExpired || t.revokedAt !== undefined || Date.now() >= t.expiresAt) return undefined;
    return t;
  }

  /**
   * What Cinder (behind keystonemiddleware) accepts: like Keystone, except that a revoked token
   * stays valid for the middleware's cache time, and the tokenExpiry fault cuts lifetimes short.
   */
  validForService(id: string, faultExpirySeconds?: number): { token?: TokenRecord; expiredByFault: boolean } {
    const t = this.tokens.get(id);
    const now = Date.now();
    if (!t || t.forcedExpired || now >= t.expiresAt) return { expiredByFault: false };
    if (t.revokedAt !== undefined && now - t.revokedAt > TOKEN_CACHE_SECONDS * 1000) return { expiredByFault: false };
    if (faultExpirySeconds !== undefined && now - t.issuedAt >= faultExpirySeconds * 1000) return { expiredByFault: true };
    return { token: t, expiredByFault: false };
  }

  expireAll(): void {
    for (const t of this.tokens.values()) t.forcedExpired = true;
  }
}
