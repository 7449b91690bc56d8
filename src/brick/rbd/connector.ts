import type { Logger } from '../../log/logger.js';
import { silentLogger } from '../../log/logger.js';
import { deviceSizeBytes, kernelName } from '../../host/block-device.js';
import { isDeviceMounted, mountedDevices } from '../../host/device-use.js';
import { ExecError, type Exec } from '../../host/exec.js';
import type { HostFs } from '../../host/host-fs.js';
import type { ProgramFinder } from '../../host/host-programs.js';
import { errorMessage, failedPrecondition, invalidArgument } from '../../util/errors.js';
import type { RbdConnection } from '../connection-data.js';
import type { AttachedDevice, ConnectOptions, Connector, DisconnectOptions, OrphanReport } from '../connector.js';
import { cephAccess, type CephAccess } from './ceph-access.js';
import { MapJournal } from './map-journal.js';
import { isImageMapping, krbdMappings, parseDeviceList, type RbdMapper, type RbdMapping } from './mappings.js';

export interface RbdConnectorOptions {
  exec: Exec;
  fs: HostFs;
  log?: Logger;
  /** Where key files are written: a tmpfs, so a key never reaches a disk. Default /dev/shm. */
  keyDir?: string;
  /** The same directory as `rbd` sees it, when host programs run elsewhere. Default: keyDir. */
  keyDirForExec?: string;
  /** The root host programs run in, as this process sees it (for /etc/ceph keyrings). Default "/". */
  hostRoot?: string;
  /** Finds rbd-nbd, the fallback for images krbd cannot map. Without it there is no fallback. */
  programs?: ProgramFinder;
  /** Where mappings this plugin made are recorded for the start-up sweep (see map-journal.ts). */
  journalDir?: string;
  /** `rbd map` may wait for the monitors; default 120 s. */
  mapTimeoutMs?: number;
  /** Unmap attempts while the device is busy, before the forced unmap of an unmounted device. Default 5. */
  unmapAttempts?: number;
  /** First wait between unmap attempts, doubled each time. Default 500 ms. */
  unmapRetryDelayMs?: number;
  /** /proc/self/mountinfo, or the host's when host programs run via nsenter. */
  mountinfoPath?: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+=-]*$/;
const MONITOR = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(:\d{1,5})?$/;
const DEVICE = /^\/dev\/(rbd|nbd)\d+$/;
/**
 * krbd refuses an image whose features it lacks with ENXIO; the reason is only in the kernel log
 * ("image uses unsupported features"), so the features are then compared with what the kernel
 * says it supports (/sys/bus/rbd/supported_features). Older rbd CLIs also print "feature set mismatch".
 */
const MAP_ENXIO = /\(6\) No such device or address|feature set mismatch/i;
/** librbd's feature bits (include/rbd/features.h). */
const FEATURE_BITS: Readonly<Record<string, number>> = {
  layering: 1,
  striping: 2,
  'exclusive-lock': 4,
  'object-map': 8,
  'fast-diff': 16,
  'deep-flatten': 32,
  journaling: 64,
  'data-pool': 128,
  operations: 256,
  migrating: 512,
  'non-primary': 1024,
};
const BUSY = /\(16\)|device or resource busy/i;

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    }, { once: true });
  });

/**
 * Ceph RBD images through the `rbd` CLI: the kernel client (krbd) first, rbd-nbd when the
 * kernel refuses one of the image's features. A read-write map of a volume written from one node
 * is refused while another client has the image open (its watch): after a node was lost, a
 * second writer would corrupt the file system. `-o exclusive` is not used: krbd would then keep
 * the exclusive lock against Cinder's own resize and snapshot requests, so online expand and
 * snapshots of in-use volumes would fail.
 */
export class RbdConnector implements Connector<RbdConnection> {
  private readonly exec: Exec;
  private readonly fs: HostFs;
  private readonly log: Logger;
  private readonly o: RbdConnectorOptions;
  private readonly journal: MapJournal | undefined;

  constructor(options: RbdConnectorOptions) {
    this.o = options;
    this.exec = options.exec;
    this.fs = options.fs;
    this.log = options.log ?? silentLogger();
    this.journal = options.journalDir ? new MapJournal(options.journalDir) : undefined;
  }

  async connect(conn: RbdConnection, opts: ConnectOptions = {}): Promise<AttachedDevice> {
    checkConnection(conn);
    const existing = await this.findDevice(conn, opts);
    if (existing) return existing;

    const timeoutMs = Math.min(opts.timeoutMs ?? this.mapTimeoutMs, this.mapTimeoutMs);
    const access = await this.access(conn, opts.secretKey);
    try {
      const readOnly = conn.accessMode === 'ro';
      if (opts.exclusiveWriter && !readOnly) await this.refuseIfOpenElsewhere(conn, access, opts.signal, timeoutMs);
      await this.journal?.record(conn);
      try {
        return await this.map(conn, access, readOnly, opts.signal, timeoutMs);
      } catch (err) {
        // A map that failed half-way (a timeout after the kernel added the device) is undone;
        // only then is the journal entry dropped.
        await this.disconnect(conn, undefined, {}).catch((e: unknown) =>
          this.log.warn({ image: conn.image, err: errorMessage(e) }, 'cleanup after a failed rbd map failed'),
        );
        throw err;
      }
    } finally {
      await access.release();
    }
  }

  async findDevice(conn: RbdConnection, opts: { signal?: AbortSignal } = {}): Promise<AttachedDevice | undefined> {
    checkConnection(conn);
    const m = (await this.mappings(opts.signal)).find((x) => isImageMapping(x, conn));
    return m ? { path: m.device, mapper: m.mapper } : undefined;
  }

  async disconnect(conn: RbdConnection, device: AttachedDevice | undefined, opts: DisconnectOptions = {}): Promise<void> {
    checkConnection(conn);
    const mapped = (await this.mappings(opts.signal)).filter((x) => isImageMapping(x, conn));
    for (const m of mapped) {
      if (device && device.path !== m.device) {
        this.log.warn({ expected: device.path, device: m.device, image: conn.image }, 'rbd image is mapped on another device than recorded; unmapping it');
      }
      await this.unmap(conn, m, opts.signal);
    }
    await this.journal?.forget(conn);
  }

  async extend(conn: RbdConnection, device: AttachedDevice, _opts: { signal?: AbortSignal } = {}): Promise<number> {
    checkConnection(conn);
    // krbd and rbd-nbd follow the image header: the new size shows once the controller resized it.
    return deviceSizeBytes(this.fs, device.path);
  }

  /**
   * Start-up: images this plugin mapped (its journal) that no stage record names are unmapped,
   * unless mounted or held; journal entries of images no longer mapped are dropped.
   */
  async sweepOrphans(staged: readonly RbdConnection[]): Promise<OrphanReport> {
    const report: OrphanReport = { removed: [], kept: [] };
    if (!this.journal) return report;
    const referenced = new Set(staged.map((c) => `${c.pool}/${c.image}`));
    const entries = await this.journal.entries();
    const orphans = entries.filter((c) => !referenced.has(`${c.pool}/${c.image}`));
    if (orphans.length === 0) return report;
    const mappings = await this.mappings(undefined);
    const mounted = mountedDevices(await this.fs.readFile(this.o.mountinfoPath ?? '/proc/self/mountinfo'));
    for (const conn of orphans) {
      const spec = `${conn.pool}/${conn.image}`;
      try {
        const mine = mappings.filter((m) => isImageMapping(m, conn));
        const busy = [];
        for (const m of mine) if (await this.inUse(m.device, mounted)) busy.push(m.device);
        if (busy.length > 0) {
          this.log.warn({ image: spec, devices: busy }, 'rbd mapping without a stage record left alone: it is in use');
          report.kept.push({ iqn: spec, reason: `${busy.join(', ')} in use` });
          continue;
        }
        for (const m of mine) await this.unmapOnce(m, false, undefined);
        await this.journal.forget(conn);
        if (mine.length > 0) {
          this.log.warn({ image: spec, devices: mine.map((m) => m.device) }, 'rbd mapping without a stage record removed (left by a crash)');
          report.removed.push(spec);
        }
      } catch (err) {
        this.log.warn({ image: spec, err: errorMessage(err) }, 'rbd mapping without a stage record could not be removed');
        report.kept.push({ iqn: spec, reason: errorMessage(err) });
      }
    }
    return report;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private get mapTimeoutMs(): number {
    return this.o.mapTimeoutMs ?? 120_000;
  }

  private access(conn: RbdConnection, secretKey: string | undefined): Promise<CephAccess> {
    const keyDir = this.o.keyDir ?? '/dev/shm';
    return cephAccess(
      { fs: this.fs, log: this.log, keyDir, keyDirForExec: this.o.keyDirForExec ?? keyDir, hostRoot: this.o.hostRoot ?? '/' },
      conn,
      secretKey,
    );
  }

  /** Every watcher of the image is another client: this node has no mapping of it (checked before). */
  private async refuseIfOpenElsewhere(conn: RbdConnection, access: CephAccess, signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
    const { stdout } = await this.exec.run('rbd', ['status', `${conn.pool}/${conn.image}`, '--format', 'json', ...access.args], {
      secrets: access.secrets,
      signal,
      timeoutMs,
    });
    const watchers = parseWatchers(stdout);
    if (watchers.length === 0) return;
    throw failedPrecondition(
      `rbd image ${conn.pool}/${conn.image} is open by another client (${watchers.join(', ')}): a volume with a single-node ` +
        'access mode is mapped read-write on one node only. If that client is gone, its watch expires within 30 s; ' +
        'if it is a node that still runs, unstage the volume there first',
    );
  }

  private async map(conn: RbdConnection, access: CephAccess, readOnly: boolean, signal: AbortSignal | undefined, timeoutMs: number): Promise<AttachedDevice> {
    const spec = `${conn.pool}/${conn.image}`;
    const run = (mapper: RbdMapper) =>
      this.exec.run('rbd', ['device', 'map', '-t', mapper, spec, ...(readOnly ? ['--read-only'] : []), ...access.args], {
        secrets: access.secrets,
        signal,
        timeoutMs,
      });
    let mapper: RbdMapper = 'krbd';
    let stdout: string;
    try {
      ({ stdout } = await run('krbd'));
    } catch (err) {
      if (!(err instanceof ExecError) || !MAP_ENXIO.test(err.stderr)) throw err;
      const refused = await this.featuresKrbdLacks(conn, access, signal, timeoutMs);
      if (refused.length === 0) throw err;
      if (!(await this.nbdAvailable())) {
        throw failedPrecondition(
          `this node's kernel cannot map rbd image ${spec}: krbd does not support its feature(s) ${refused.join(', ')}; ` +
            'install rbd-nbd (Debian package rbd-nbd) on the node for the userspace fallback, or disable the feature(s) on the image',
        );
      }
      this.log.warn({ image: spec, features: refused }, 'krbd refused image features; mapping with rbd-nbd instead');
      mapper = 'nbd';
      ({ stdout } = await run('nbd'));
    }
    const printed = stdout
      .split('\n')
      .map((l) => l.trim())
      .find((l) => DEVICE.test(l));
    const device = printed ?? (await this.findDevice(conn, { ...(signal ? { signal } : {}) }))?.path;
    if (!device) throw new Error(`rbd device map ${spec} did not report a device`);
    this.log.info({ pool: conn.pool, image: conn.image, device, mapper }, 'rbd image mapped');
    return { path: device, mapper };
  }

  /** The image's features this kernel's krbd does not support (none when the kernel does not say). */
  private async featuresKrbdLacks(conn: RbdConnection, access: CephAccess, signal: AbortSignal | undefined, timeoutMs: number): Promise<string[]> {
    let supported: number;
    try {
      supported = Number.parseInt((await this.fs.readFile('/sys/bus/rbd/supported_features')).trim(), 16);
    } catch {
      return [];
    }
    if (!Number.isFinite(supported)) return [];
    const { stdout } = await this.exec.run('rbd', ['info', `${conn.pool}/${conn.image}`, '--format', 'json', ...access.args], {
      secrets: access.secrets,
      ...(signal ? { signal } : {}),
      timeoutMs,
    });
    const info: unknown = JSON.parse(stdout);
    const features = info && typeof info === 'object' ? (info as Record<string, unknown>).features : undefined;
    if (!Array.isArray(features)) return [];
    return features.filter((f): f is string => typeof f === 'string' && ((FEATURE_BITS[f] ?? 0) & supported) !== (FEATURE_BITS[f] ?? 0));
  }

  /**
   * Unmap by image spec: `rbd` picks the device through sysfs (krbd) or rbd-nbd's own list, so
   * a kernel name recorded earlier is never trusted. A busy device is retried with a bound; then
   * forced only when nothing mounts or holds it (an open file handle of a finished pod), else
   * FAILED_PRECONDITION naming what holds it.
   */
  private async unmap(conn: RbdConnection, m: RbdMapping, signal: AbortSignal | undefined): Promise<void> {
    const attempts = Math.max(1, this.o.unmapAttempts ?? 5);
    let delay = this.o.unmapRetryDelayMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.unmapOnce(m, false, signal);
        return;
      } catch (err) {
        if (!(err instanceof ExecError) || !BUSY.test(err.stderr)) throw err;
        if (attempt >= attempts) break;
        this.log.info({ image: conn.image, device: m.device, attempt }, 'rbd device busy; unmap retried');
        await sleep(delay, signal);
        delay *= 2;
      }
    }
    const mounted = mountedDevices(await this.fs.readFile(this.o.mountinfoPath ?? '/proc/self/mountinfo'));
    const holders = await this.fs.readdir(`/sys/block/${kernelName(m.device)}/holders`);
    if (await isDeviceMounted(this.fs, kernelName(m.device), mounted)) {
      throw failedPrecondition(`rbd device ${m.device} (${conn.pool}/${conn.image}) is busy: it is still mounted; unmount it (unpublish) first`);
    }
    if (holders.length > 0) {
      throw failedPrecondition(`rbd device ${m.device} (${conn.pool}/${conn.image}) is busy: held by ${holders.join(', ')}`);
    }
    this.log.warn({ image: conn.image, device: m.device, attempts }, 'rbd device still busy but not mounted; forcing the unmap');
    await this.unmapOnce(m, true, signal);
  }

  private async unmapOnce(m: RbdMapping, force: boolean, signal: AbortSignal | undefined): Promise<void> {
    const spec = `${m.pool}/${m.name}`;
    await this.exec.run('rbd', ['device', 'unmap', '-t', m.mapper, spec, ...(force ? ['-o', 'force'] : [])], { ...(signal ? { signal } : {}) });
    this.log.info({ image: spec, device: m.device, mapper: m.mapper, force }, 'rbd image unmapped');
  }

  private async inUse(device: string, mounted: ReturnType<typeof mountedDevices>): Promise<boolean> {
    const name = kernelName(device);
    return (await isDeviceMounted(this.fs, name, mounted)) || (await this.fs.readdir(`/sys/block/${name}/holders`)).length > 0;
  }

  /** krbd from sysfs; rbd-nbd's list only when an nbd device is connected at all (no spawn otherwise). */
  private async mappings(signal: AbortSignal | undefined): Promise<RbdMapping[]> {
    const out = await krbdMappings(this.fs);
    if (await this.anyNbdConnected()) {
      const { stdout } = await this.exec.run('rbd', ['device', 'list', '-t', 'nbd', '--format', 'json'], { ...(signal ? { signal } : {}) });
      out.push(...parseDeviceList(stdout, 'nbd'));
    }
    return out;
  }

  private async anyNbdConnected(): Promise<boolean> {
    for (const name of await this.fs.readdir('/sys/block')) {
      if (/^nbd\d+$/.test(name) && (await this.fs.exists(`/sys/block/${name}/pid`))) return this.nbdAvailable();
    }
    return false;
  }

  private async nbdAvailable(): Promise<boolean> {
    return this.o.programs ? (await this.o.programs.missing(['rbd-nbd'])).length === 0 : false;
  }
}

/** `rbd status --format json`: `{"watchers": [{"address": "10.0.0.5:0/123", "client": 4143, "cookie": …}]}`. */
function parseWatchers(text: string): string[] {
  const data: unknown = JSON.parse(text.trim() || '{}');
  const list = data && typeof data === 'object' ? (data as Record<string, unknown>).watchers : undefined;
  if (!Array.isArray(list)) return [];
  return list.map((w: unknown) => {
    const r = (w && typeof w === 'object' ? w : {}) as Record<string, unknown>;
    return typeof r.address === 'string' ? r.address : typeof r.client === 'number' ? `client.${r.client}` : 'a client';
  });
}

function checkConnection(conn: RbdConnection): void {
  for (const [what, v] of [
    ['pool', conn.pool],
    ['image', conn.image],
    ['user', conn.user],
    ['cluster_name', conn.clusterName],
  ] as const) {
    if (!NAME.test(v)) throw invalidArgument(`rbd ${what} ${JSON.stringify(v)} is not a valid name`);
  }
  if (!conn.monitors.length) throw invalidArgument('rbd connection data has no monitor');
  for (const m of conn.monitors) {
    if (!MONITOR.test(m)) throw invalidArgument(`rbd monitor ${JSON.stringify(m)} is not host:port`);
  }
}
