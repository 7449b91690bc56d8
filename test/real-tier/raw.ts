import type { RealCinderEnv } from './env.js';

/**
 * Plain fetch() against the real Cinder and Keystone, independent of src/cinder: the harness's
 * own view, used to set up and to check what the driver did (and for the raw publish proof).
 */
export interface RawResponse {
  status: number;
  headers: Headers;
  body: any;
}

export async function keystoneToken(env: RealCinderEnv, identity: Record<string, unknown>, scope?: Record<string, unknown>): Promise<RawResponse & { token?: string }> {
  const res = await fetch(`${env.get('OS_AUTH_URL').replace(/\/+$/, '')}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity, ...(scope ? { scope } : {}) } }),
  });
  const text = await res.text();
  const token = res.headers.get('x-subject-token') ?? undefined;
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, ...(token ? { token } : {}) };
}

/**
 * The tier's own project (REAL_TIER_*, apart from the contract suite's project), falling back to
 * the main test project for env files that do not have it (e.g. the shared harness's).
 */
export function tierVar(env: RealCinderEnv, name: string, fallback: string): string {
  return env.opt(`REAL_TIER_${name}`) ?? env.get(fallback);
}

/** A token for the tier's project: noauth's `<user>:<project>`, or one from its application credential. */
export async function projectToken(env: RealCinderEnv): Promise<string> {
  if (env.mode === 'noauth') return tierVar(env, 'TOKEN', 'CINDER_TOKEN');
  const r = await keystoneToken(env, {
    methods: ['application_credential'],
    application_credential: {
      id: tierVar(env, 'APPLICATION_CREDENTIAL_ID', 'OS_APPLICATION_CREDENTIAL_ID'),
      secret: tierVar(env, 'APPLICATION_CREDENTIAL_SECRET', 'OS_APPLICATION_CREDENTIAL_SECRET'),
    },
  });
  if (r.status !== 201 || !r.token) throw new Error(`keystone refused the application credential: HTTP ${r.status}`);
  return r.token;
}

export class RawCinder {
  constructor(
    readonly endpoint: string,
    private readonly token: string,
    readonly microversion = '3.44',
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<RawResponse> {
    const res = await fetch(`${this.endpoint}${path}`, {
      method,
      headers: {
        'x-auth-token': this.token,
        'openstack-api-version': `volume ${this.microversion}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Cinder answers some 202s with an empty text/html body
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  /** Polls GET /<kind>s/<id> until status is `want` (or 404 when want is 'gone'); throws on error* or timeout. */
  async waitFor(kind: 'volume' | 'snapshot', id: string, want: string, timeoutMs = 60_000): Promise<any> {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      const r = await this.call('GET', `/${kind}s/${id}`);
      if (want === 'gone' && r.status === 404) return undefined;
      if (r.status === 200) {
        last = r.body[kind].status as string;
        if (last === want) return r.body[kind];
        if (last.startsWith('error') && !want.startsWith('error')) throw new Error(`${kind} ${id} went ${last}`);
      } else {
        last = `HTTP ${r.status}`;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error(`${kind} ${id} did not become ${want} within ${timeoutMs} ms (last: ${last})`);
  }
}

export async function rawCinder(env: RealCinderEnv): Promise<RawCinder> {
  return new RawCinder(tierVar(env, 'ENDPOINT', 'CINDER_ENDPOINT'), await projectToken(env));
}
