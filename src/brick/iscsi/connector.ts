import type { Exec } from '../../host/exec.js';
import type { HostFs } from '../../host/host-fs.js';
import { waitFor } from '../../host/wait.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage, failedPrecondition, invalidArgument, unavailable } from '../../util/errors.js';
import type { KeyedMutex } from '../../util/keyed-mutex.js';
import type { IscsiConnection, IscsiTarget } from '../connection-data.js';
import type { AttachedDevice, ConnectOptions, Connector, DisconnectOptions, OrphanReport } from '../connector.js';
import { Iscsiadm } from './iscsiadm.js';
import { Multipath } from './multipath.js';
import { bringUpPath, type PathBudget, type PathDevice } from './path.js';
import { ScsiSysfs } from './scsi-sysfs.js';
import { connectionDevices, teardown } from './teardown.js';
import { normalizePortal, targetKey, validateTarget } from './target.js';
import { sweepOrphanSessions } from './orphans.js';

export interface IscsiConnectorOptions {
  exec: Exec;
  fs: HostFs;
  log: Logger;
  /** Per-target locks, shared by everything on this host that touches iSCSI sessions. */
  locks: KeyedMutex;
  /** The iscsiadm iface of this driver's node records. Default `cinder-metal-csi`. */
  iface?: string;
  /** Bound for our LUN's disk to appear once logged in (with rescans). Default 30 s. */
  deviceTimeoutMs?: number;
  /** Bound for multipathd to build the map once a path is up. Default 15 s. */
  multipathTimeoutMs?: number;
  /** Bound for a whole connect when the caller gives none. Default 120 s. */
  connectTimeoutMs?: number;
  /** iscsid's login attempts per login (node.session.initial_login_retry_max). Default 4. */
  loginRetries?: number;
  /** Re-check interval for sysfs, which has no change events. Default 100 ms. */
  pollMs?: number;
  /** Base pause between retries of flushes and map removals. Default 1 s. */
  retryDelayMs?: number;
}

export const DEFAULT_ISCSI_IFACE = 'cinder-metal-csi';

/**
 * Software iSCSI through open-iscsi, after os-brick's ISCSIConnector. Single path: the targets
 * are alternatives, the first that gives a disk wins. Multipath: every path logs in on its own;
 * the connect returns once one path and its multipath map are there, and the other paths join
 * the map as they come. Without multipathd, or when no map forms, one path is used and a warning
 * says so. Devices are found and torn down through our sessions and LUN only (teardown.ts).
 */
export class IscsiConnector implements Connector<IscsiConnection> {
  private readonly adm: Iscsiadm;
  private readonly sysfs: ScsiSysfs;
  private readonly multipath: Multipath;
  private readonly log: Logger;
  private readonly locks: KeyedMutex;
  private readonly deviceTimeoutMs: number;
  private readonly multipathTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly pollMs: number;
  private readonly retryDelayMs: number;
  private ifaceReady = false;

  constructor(private readonly o: IscsiConnectorOptions) {
    this.log = o.log;
    this.locks = o.locks;
    this.sysfs = new ScsiSysfs(o.fs);
    this.adm = new Iscsiadm({ exec: o.exec, log: o.log, iface: o.iface ?? DEFAULT_ISCSI_IFACE, loginRetries: o.loginRetries ?? 4 });
    this.retryDelayMs = o.retryDelayMs ?? 1_000;
    this.multipath = new Multipath({ exec: o.exec, sysfs: this.sysfs, log: o.log, retryDelayMs: this.retryDelayMs });
    this.deviceTimeoutMs = o.deviceTimeoutMs ?? 30_000;
    this.multipathTimeoutMs = o.multipathTimeoutMs ?? 15_000;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 120_000;
    this.pollMs = o.pollMs ?? 100;
  }

  async connect(conn: IscsiConnection, opts: ConnectOptions = {}): Promise<AttachedDevice> {
    const targets = checkTargets(conn);
    checkAuth(conn);
    const budget: PathBudget = {
      deadline: Date.now() + (opts.timeoutMs ?? this.connectTimeoutMs),
      deviceTimeoutMs: this.deviceTimeoutMs,
      secrets: [conn.auth?.password, conn.discoveryAuth?.password].filter((s): s is string => !!s),
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    await this.ensureIface(opts.signal);
    if (conn.multipath) {
      if (await this.multipath.running(opts.signal)) {
        const paths = conn.discovery ? await this.discoverPaths(conn, targets, budget) : targets;
        return this.connectMultipath(conn, paths, budget);
      }
      this.log.warn({ iqn: targets[0]?.iqn }, 'multipath was asked for but multipathd does not answer on this node; using one path');
    }
    return this.connectSingle(conn, targets, budget);
  }

  async findDevice(conn: IscsiConnection, _opts: { signal?: AbortSignal } = {}): Promise<AttachedDevice | undefined> {
    const paths = await this.pathsOf(conn);
    const { disks } = await connectionDevices({ adm: this.adm, sysfs: this.sysfs, log: this.log }, conn, paths, undefined);
    const first = disks[0];
    if (!first) return undefined;
    const wwn = await this.sysfs.scsiId(first.disk);
    const dm = await this.multipath.mapOf(disks.map((x) => x.disk), wwn);
    if (dm) return { path: `/dev/${dm}`, ...(wwn ? { wwn } : {}), multipath: true };
    return { path: `/dev/${first.disk}`, ...(wwn ? { wwn } : {}), multipath: false };
  }

  async disconnect(conn: IscsiConnection, device: AttachedDevice | undefined, opts: DisconnectOptions = {}): Promise<void> {
    const paths = await this.pathsOf(conn);
    await this.locks.runAll(paths.map(targetKey), () =>
      teardown(this.teardownDeps(), conn, paths, { ...(device?.wwn ? { expectWwn: device.wwn } : {}), ...(opts.force ? { force: true } : {}) }),
    );
  }

  async extend(conn: IscsiConnection, device: AttachedDevice, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const paths = await this.pathsOf(conn);
    const { disks } = await connectionDevices({ adm: this.adm, sysfs: this.sysfs, log: this.log }, conn, paths, device.wwn);
    if (disks.length === 0) throw failedPrecondition(`no SCSI path of volume ${device.wwn ?? device.path} is present on this host`);
    for (const { disk } of disks) await this.sysfs.rescan(disk);
    const dm = await this.multipath.mapOf(disks.map((x) => x.disk), device.wwn);
    if (dm) await this.multipath.resize(dm, opts.signal);
    const size = await this.sysfs.sizeBytes(dm ?? (disks[0] as { disk: string }).disk);
    this.log.info({ device: dm ?? disks[0]?.disk, sizeBytes: size }, 'iscsi volume rescanned');
    return size;
  }

  // ---- connect -------------------------------------------------------------------------------

  private async connectSingle(conn: IscsiConnection, targets: IscsiTarget[], budget: PathBudget): Promise<AttachedDevice> {
    const errors: string[] = [];
    for (const t of targets) {
      try {
        const p = await this.locks.run(targetKey(t), () => bringUpPath(this.pathDeps(), conn, t, budget));
        const wwn = await this.sysfs.scsiId(p.disk);
        this.log.info({ portal: t.portal, iqn: t.iqn, lun: t.lun, device: p.disk, wwn }, 'iscsi volume connected');
        return { path: `/dev/${p.disk}`, ...(wwn ? { wwn } : {}), multipath: false };
      } catch (err) {
        // A caller that gave up keeps what was done: its retry continues from there.
        if (budget.signal?.aborted) throw err;
        await this.cleanup(conn, [t]);
        if (targets.length === 1) throw err;
        errors.push(`${t.portal}: ${errorMessage(err)}`);
        this.log.warn({ portal: t.portal, iqn: t.iqn, err: errorMessage(err) }, 'iscsi portal failed, trying the next one');
      }
    }
    throw unavailable(`could not connect to any iSCSI portal: ${errors.join('; ')}`);
  }

  private async connectMultipath(conn: IscsiConnection, paths: IscsiTarget[], budget: PathBudget): Promise<AttachedDevice> {
    const found: PathDevice[] = [];
    let settled = 0;
    let first: PathDevice | undefined;
    // Set once the WWID is known to multipathd; a path that comes up later adds itself.
    const multipathReady = { wwid: '' };
    const failures: string[] = [];
    // Each path under its own target lock, independent of the others: one unreachable portal
    // neither delays nor fails the volume.
    const tasks = paths.map((t) =>
      this.locks
        .run(targetKey(t), () => bringUpPath(this.pathDeps(), conn, t, budget))
        .then(
          async (p) => {
            found.push(p);
            if (multipathReady.wwid) await this.multipath.addPath(p.disk);
            return p;
          },
          async (err: unknown) => {
            failures.push(`${t.portal}: ${errorMessage(err)}`);
            this.log.warn({ portal: t.portal, iqn: t.iqn, err: errorMessage(err) }, 'iscsi path did not come up');
            if (!budget.signal?.aborted) await this.cleanup(conn, [t]);
            throw err;
          },
        )
        .finally(() => settled++),
    );
    try {
      first = await Promise.any(tasks);
    } catch {
      if (budget.signal?.aborted) throw abortReason(budget.signal);
      throw unavailable(`no iSCSI path came up: ${failures.join('; ')}`);
    }
    // Later failures of other paths were logged and cleaned up in their own handler.
    for (const task of tasks) task.catch(() => undefined);

    const wwn = await waitFor(`the WWID of /dev/${first.disk}`, () => this.sysfs.scsiId(first?.disk ?? ''), {
      timeoutMs: 10_000,
      pollMs: this.pollMs,
      ...(budget.signal ? { signal: budget.signal } : {}),
    });
    await this.multipath.addWwid(wwn, budget.signal);
    multipathReady.wwid = wwn;
    for (const p of [...found]) await this.multipath.addPath(p.disk, budget.signal);

    const wanted = Math.min(this.multipathTimeoutMs, Math.max(1, budget.deadline - Date.now()));
    const dm = await waitFor(`the multipath map of ${wwn}`, () => this.multipath.mapOf(found.map((p) => p.disk), wwn), {
      timeoutMs: wanted,
      pollMs: this.pollMs,
      ...(budget.signal ? { signal: budget.signal } : {}),
    }).catch((err: unknown) => {
      if (budget.signal?.aborted) throw err;
      return undefined;
    });
    if (!dm) {
      this.log.warn(
        { iqn: first.target.iqn, wwn, device: first.disk, waitedMs: wanted },
        'no multipath map formed (is multipathd configured for this array?); using one path',
      );
      return { path: `/dev/${first.disk}`, wwn, multipath: false };
    }
    this.log.info({ iqn: first.target.iqn, paths: found.map((p) => p.disk), pending: paths.length - settled, device: dm, wwn }, 'iscsi multipath volume connected');
    return { path: `/dev/${dm}`, wwn, multipath: true };
  }

  /**
   * Multipath from one portal: ask it which portals export the same target. Other targets in the
   * answer are ignored (they may be another tenant's). When discovery fails, the one portal is used.
   */
  private async discoverPaths(conn: IscsiConnection, targets: IscsiTarget[], budget: PathBudget): Promise<IscsiTarget[]> {
    const main = targets[0] as IscsiTarget;
    try {
      const found = await this.adm.discover(main.portal, conn.discoveryAuth, {
        secrets: budget.secrets,
        timeoutMs: Math.max(1_000, Math.min(30_000, budget.deadline - Date.now())),
        ...(budget.signal ? { signal: budget.signal } : {}),
      });
      return withPortalsOf(targets, main, found);
    } catch (err) {
      if (budget.signal?.aborted) throw err;
      this.log.warn({ portal: main.portal, err: errorMessage(err) }, 'iscsi discovery failed; using the portal Cinder gave');
      return targets;
    }
  }

  /**
   * Sessions on our iface whose target no stage record names (orphans.ts). Runs before the node
   * serves, under every swept target's lock all the same.
   */
  async sweepOrphans(staged: readonly IscsiConnection[]): Promise<OrphanReport> {
    const referenced = new Set(staged.flatMap((c) => c.targets.map((t) => t.iqn)));
    const deps = {
      ...this.teardownDeps(),
      iface: this.adm.iface,
      mountinfo: () => this.o.fs.readFile('/proc/self/mountinfo'),
      guard: <T>(paths: IscsiTarget[], fn: () => Promise<T>) => this.locks.runAll(paths.map(targetKey), fn),
    };
    return sweepOrphanSessions(deps, referenced);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Undo a failed connect of these paths (by identity), logging instead of throwing. */
  private async cleanup(conn: IscsiConnection, paths: IscsiTarget[]): Promise<void> {
    try {
      await this.locks.runAll(paths.map(targetKey), () => teardown(this.teardownDeps(), conn, paths, { force: true }));
    } catch (err) {
      this.log.warn({ iqn: paths[0]?.iqn, err: errorMessage(err) }, 'cleanup after a failed iscsi connect failed');
    }
  }

  /** The paths of a connection: its targets, and for multipath every session to the same target. */
  private async pathsOf(conn: IscsiConnection): Promise<IscsiTarget[]> {
    const paths = checkTargets(conn);
    const main = paths[0];
    if (!conn.multipath || !main) return paths;
    return withPortalsOf(paths, main, await this.sysfs.sessions());
  }

  private async ensureIface(signal: AbortSignal | undefined): Promise<void> {
    if (this.ifaceReady) return;
    await this.adm.ensureIface(signal);
    this.ifaceReady = true;
  }

  private pathDeps() {
    return { adm: this.adm, sysfs: this.sysfs, log: this.log, pollMs: this.pollMs };
  }

  private teardownDeps() {
    return { exec: this.o.exec, adm: this.adm, sysfs: this.sysfs, multipath: this.multipath, log: this.log, retryDelayMs: this.retryDelayMs };
  }
}

/**
 * The paths plus every further portal of the same target among `seen` (discovery answers or live
 * sessions), at the main path's LUN. Other targets, and portals that do not parse, are ignored.
 */
function withPortalsOf(paths: readonly IscsiTarget[], main: IscsiTarget, seen: ReadonlyArray<{ portal: string; iqn: string }>): IscsiTarget[] {
  const out = [...paths];
  for (const s of seen) {
    if (s.iqn !== main.iqn) continue;
    let portal: string;
    try {
      portal = normalizePortal(s.portal);
    } catch {
      continue;
    }
    if (!out.some((p) => p.portal === portal)) out.push({ portal, iqn: main.iqn, lun: main.lun });
  }
  return out;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

/** What reaches iscsiadm's argv: no option-looking names, sane portals and LUNs; duplicates dropped. */
function checkTargets(conn: IscsiConnection): IscsiTarget[] {
  if (!conn.targets.length) throw invalidArgument('iSCSI connection data has no target');
  const out: IscsiTarget[] = [];
  for (const t of conn.targets.map(validateTarget)) {
    if (!out.some((o) => o.portal === t.portal && o.iqn === t.iqn && o.lun === t.lun)) out.push(t);
  }
  return out;
}

/**
 * Credentials are needed to log in, never to log out: the stage record keeps none, so disconnect
 * does not look at them.
 */
function checkAuth(conn: IscsiConnection): void {
  for (const a of [conn.auth, conn.discoveryAuth]) {
    if (!a) continue;
    if (a.method !== 'CHAP') throw invalidArgument(`iSCSI auth method ${JSON.stringify(a.method)} is not supported`);
    if (!a.username || /\s/.test(a.username)) throw invalidArgument('iSCSI CHAP user name is empty or has white space');
    if (!a.password) throw invalidArgument('iSCSI CHAP password is empty');
  }
}
