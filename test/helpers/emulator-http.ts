import { startEmulator } from '../../src/emulator/server.js';
import type { EmulatorOptions, RunningEmulator } from '../../src/emulator/types.js';

/**
 * Helpers for the emulator's own tests: plain fetch over real HTTP (deliberately not the driver's
 * Cinder client), with the noauth token and a microversion by default.
 */

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // Parsed JSON at a test boundary: tests index into it freely.
  body: any;
}

export interface CallOptions {
  token?: string | null;
  version?: string | null;
  headers?: Record<string, string>;
  rawBody?: string;
  signal?: AbortSignal;
}

export async function call(method: string, url: string, body?: unknown, o: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token) headers['X-Auth-Token'] = o.token;
  if (o.version) headers['OpenStack-API-Version'] = `volume ${o.version}`;
  let payload: string | undefined = o.rawBody;
  if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: payload, ...(o.signal ? { signal: o.signal } : {}) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** A Cinder client bound to one emulator: paths are relative to /v3/<project>. */
export class Cinder {
  constructor(
    readonly emu: RunningEmulator,
    readonly version: string | null = '3.70',
    readonly token: string | null = `admin:${emu.projectId}`,
  ) {}

  at(version: string | null): Cinder {
    return new Cinder(this.emu, version, this.token);
  }

  withToken(token: string | null): Cinder {
    return new Cinder(this.emu, this.version, token);
  }

  req(method: string, path: string, body?: unknown, o: CallOptions = {}): Promise<Reply> {
    return call(method, `${this.emu.cinderEndpoint}${path}`, body, { token: this.token, version: this.version, ...o });
  }

  get(path: string, o?: CallOptions): Promise<Reply> {
    return this.req('GET', path, undefined, o);
  }

  post(path: string, body?: unknown, o?: CallOptions): Promise<Reply> {
    return this.req('POST', path, body, o);
  }

  put(path: string, body?: unknown, o?: CallOptions): Promise<Reply> {
    return this.req('PUT', path, body, o);
  }

  del(path: string, o?: CallOptions): Promise<Reply> {
    return this.req('DELETE', path, undefined, o);
  }

  /** Creates a volume and waits until it is available; returns its id. */
  async volume(extra: Record<string, unknown> = {}): Promise<string> {
    const r = await this.post('/volumes', { volume: { size: 1, ...extra } });
    if (r.status !== 202) throw new Error(`create volume: ${r.status} ${r.text}`);
    const id = r.body.volume.id as string;
    await this.waitStatus('volumes', id, 'available');
    return id;
  }

  async snapshot(volumeId: string, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await this.post('/snapshots', { snapshot: { volume_id: volumeId, force: true, ...extra } });
    if (r.status !== 202) throw new Error(`create snapshot: ${r.status} ${r.text}`);
    const id = r.body.snapshot.id as string;
    await this.waitStatus('snapshots', id, 'available');
    return id;
  }

  async attach(volumeId: string, connector: Record<string, unknown> = { host: 'node-1' }): Promise<string> {
    const r = await this.at('3.70').post('/attachments', { attachment: { volume_uuid: volumeId, connector } });
    if (r.status !== 200) throw new Error(`attach: ${r.status} ${r.text}`);
    const id = r.body.attachment.id as string;
    const c = await this.at('3.70').post(`/attachments/${id}/action`, { 'os-complete': null });
    if (c.status !== 204) throw new Error(`os-complete: ${c.status} ${c.text}`);
    return id;
  }

  async waitStatus(kind: 'volumes' | 'snapshots' | 'backups', id: string, want: string, timeoutMs = 5000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.get(`/${kind}/${id}`);
      const status = r.body?.[kind.slice(0, -1)]?.status;
      if (status === want) return r;
      if (Date.now() > deadline) throw new Error(`${kind} ${id} is ${String(status)} (HTTP ${r.status}), wanted ${want}`);
      await new Promise((res) => setTimeout(res, 5));
    }
  }

  async waitGone(kind: 'volumes' | 'snapshots' | 'backups', id: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.get(`/${kind}/${id}`);
      if (r.status === 404) return;
      if (Date.now() > deadline) throw new Error(`${kind} ${id} still there (${r.status})`);
      await new Promise((res) => setTimeout(res, 5));
    }
  }
}

export async function emulator(opts: EmulatorOptions = {}): Promise<{ emu: RunningEmulator; cinder: Cinder }> {
  const emu = await startEmulator(opts);
  return { emu, cinder: new Cinder(emu) };
}

export async function keystoneToken(
  emu: RunningEmulator,
  auth: Record<string, unknown>,
): Promise<Reply & { token: string | null }> {
  const r = await call('POST', `${emu.keystoneUrl ?? ''}/auth/tokens`, { auth });
  return { ...r, token: r.headers.get('x-subject-token') };
}

export function passwordAuth(name: string, password: string, project?: string): Record<string, unknown> {
  return {
    identity: { methods: ['password'], password: { user: { name, domain: { name: 'Default' }, password } } },
    ...(project ? { scope: { project: { name: project, domain: { name: 'Default' } } } } : {}),
  };
}
