import { randomUUID } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import type { Exec } from '../host/exec.js';
import type { HostFs } from '../host/host-fs.js';
import { deviceSizeBytes } from '../host/block-device.js';
import { errorMessage, invalidArgument } from '../util/errors.js';
import type { RbdConnection } from './connection-data.js';
import type { AttachedDevice, ConnectOptions, Connector, DisconnectOptions } from './connector.js';

export interface RbdConnectorOptions {
  exec: Exec;
  fs: HostFs;
  log?: Logger;
  /** Where key files are written: a tmpfs, so a key never reaches a disk. Default /dev/shm. */
  keyDir?: string;
  /**
   * The same directory as `rbd` sees it, when host programs run elsewhere (chroot: the plugin
   * writes /host/dev/shm, rbd reads /dev/shm). Default: keyDir.
   */
  keyDirForExec?: string;
  /** `rbd map` may wait for the monitors; default 120 s. */
  mapTimeoutMs?: number;
}

/** One mapping from `rbd showmapped --format json`. */
export interface RbdMapping {
  id: string;
  pool: string;
  namespace: string;
  name: string;
  snap: string;
  device: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+=-]*$/;
const MONITOR = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(:\d{1,5})?$/;
const RBD_DEV = /^\/dev\/rbd\d+$/;

/**
 * Parse `rbd showmapped --format json`. Older Ceph prints an object keyed by id
 * (`{"0": {"pool": …, "name": …, "snap": "-", "device": "/dev/rbd0"}}`), newer releases an
 * array (`[{"id": "0", "pool": …, "namespace": "", "name": …, "snap": "-", "device": …}]`).
 */
export function parseShowmapped(text: string): RbdMapping[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  const data: unknown = JSON.parse(trimmed);
  let entries: [string | undefined, unknown][];
  if (Array.isArray(data)) entries = data.map((v) => [undefined, v]);
  else if (data && typeof data === 'object') entries = Object.entries(data);
  else throw new Error('rbd showmapped: expected a JSON array or object');
  const out: RbdMapping[] = [];
  for (const [key, v] of entries) {
    if (!v || typeof v !== 'object') continue;
    const r = v as Record<string, unknown>;
    const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : typeof x === 'number' ? String(x) : undefined);
    const pool = str(r.pool);
    const name = str(r.name);
    const device = str(r.device);
    if (!pool || !name || !device) continue;
    out.push({
      id: str(r.id) ?? key ?? '',
      pool,
      namespace: str(r.namespace) ?? '',
      name,
      snap: str(r.snap) ?? '-',
      device,
    });
  }
  return out;
}

function isImageMapping(m: RbdMapping, conn: Pick<RbdConnection, 'pool' | 'image'>): boolean {
  return m.pool === conn.pool && m.name === conn.image && m.namespace === '' && (m.snap === '-' || m.snap === '');
}

/** A key from a node-stage secret: a bare base64 key, or keyring text (`[client.x]\n key = …`). */
function isKeyring(secret: string): boolean {
  return /^\s*\[client\.[^\]]+\]/m.test(secret) || /^\s*key\s*=/m.test(secret);
}

/**
 * Kernel RBD through the `rbd` CLI. The key never reaches argv or a disk: it is written to a
 * 0600 file on tmpfs, handed over with --keyfile/--keyring, and removed right after `rbd map`,
 * whether it worked or not.
 */
export class RbdConnector implements Connector<RbdConnection> {
  private readonly exec: Exec;
  private readonly fs: HostFs;
  private readonly log: Logger;
  private readonly keyDir: string;
  private readonly keyDirForExec: string;
  private readonly mapTimeoutMs: number;

  constructor(options: RbdConnectorOptions) {
    this.exec = options.exec;
    this.fs = options.fs;
    this.log = options.log ?? silentLogger();
    this.keyDir = options.keyDir ?? '/dev/shm';
    this.keyDirForExec = options.keyDirForExec ?? this.keyDir;
    this.mapTimeoutMs = options.mapTimeoutMs ?? 120_000;
  }

  async connect(conn: RbdConnection, opts: ConnectOptions = {}): Promise<AttachedDevice> {
    checkConnection(conn);
    const existing = await this.findDevice(conn, opts);
    if (existing) return existing;

    const args = ['map', `${conn.pool}/${conn.image}`, '--id', conn.user, '-m', conn.monitors.join(',')];
    if (conn.accessMode === 'ro') args.push('--read-only');
    const secrets = opts.secretKey ? [opts.secretKey] : [];
    let keyFile: string | undefined;
    try {
      if (opts.secretKey) {
        const name = `cinder-metal-csi-rbd-${randomUUID()}.key`;
        keyFile = join(this.keyDir, name);
        await writeSecretFile(keyFile, isKeyring(opts.secretKey) ? ensureNewline(opts.secretKey) : `${opts.secretKey.trim()}\n`);
        args.push(isKeyring(opts.secretKey) ? '--keyring' : '--keyfile', join(this.keyDirForExec, name));
      }
      const { stdout } = await this.exec.run('rbd', args, {
        secrets,
        signal: opts.signal,
        timeoutMs: Math.min(opts.timeoutMs ?? this.mapTimeoutMs, this.mapTimeoutMs),
      });
      const printed = stdout
        .split('\n')
        .map((l) => l.trim())
        .find((l) => RBD_DEV.test(l));
      const device = printed ?? (await this.findDevice(conn, opts))?.path;
      if (!device) throw new Error(`rbd map ${conn.pool}/${conn.image} did not report a device`);
      this.log.info({ pool: conn.pool, image: conn.image, device }, 'rbd image mapped');
      return { path: device };
    } finally {
      if (keyFile) await removeQuietly(keyFile, this.log);
    }
  }

  async findDevice(conn: RbdConnection, opts: { signal?: AbortSignal } = {}): Promise<AttachedDevice | undefined> {
    checkConnection(conn);
    const m = (await this.mappings(opts.signal)).find((x) => isImageMapping(x, conn));
    return m ? { path: m.device } : undefined;
  }

  async disconnect(conn: RbdConnection, device: AttachedDevice | undefined, opts: DisconnectOptions = {}): Promise<void> {
    checkConnection(conn);
    const mapped = (await this.mappings(opts.signal)).filter((x) => isImageMapping(x, conn));
    for (const m of mapped) {
      if (device && device.path !== m.device) {
        this.log.warn({ expected: device.path, device: m.device, image: conn.image }, 'rbd image is mapped on another device; unmapping it');
      }
      await this.exec.run('rbd', ['unmap', m.device], { signal: opts.signal });
      this.log.info({ pool: conn.pool, image: conn.image, device: m.device }, 'rbd image unmapped');
    }
  }

  async extend(conn: RbdConnection, device: AttachedDevice, _opts: { signal?: AbortSignal } = {}): Promise<number> {
    checkConnection(conn);
    // krbd follows the image header: the new size is visible once the controller resized it.
    return deviceSizeBytes(this.fs, device.path);
  }

  private async mappings(signal: AbortSignal | undefined): Promise<RbdMapping[]> {
    const { stdout } = await this.exec.run('rbd', ['showmapped', '--format', 'json'], { signal });
    return parseShowmapped(stdout);
  }
}

function ensureNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}

/** Create with O_EXCL and mode 0600 (then chmod, whatever the umask), write, close. */
async function writeSecretFile(path: string, content: string): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.chmod(0o600);
    await fh.writeFile(content, 'utf8');
  } finally {
    await fh.close();
  }
}

async function removeQuietly(path: string, log: Logger): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.error({ path, err: errorMessage(err) }, 'could not remove an rbd key file');
  }
}

function checkConnection(conn: RbdConnection): void {
  for (const [what, v] of [
    ['pool', conn.pool],
    ['image', conn.image],
    ['user', conn.user],
  ] as const) {
    if (!NAME.test(v)) throw invalidArgument(`rbd ${what} ${JSON.stringify(v)} is not a valid name`);
  }
  if (!conn.monitors.length) throw invalidArgument('rbd connection data has no monitor');
  for (const m of conn.monitors) {
    if (!MONITOR.test(m)) throw invalidArgument(`rbd monitor ${JSON.stringify(m)} is not host:port`);
  }
}
