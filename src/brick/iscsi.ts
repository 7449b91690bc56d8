import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { ExecError, type Exec, type ExecOptions, type ExecResult } from '../host/exec.js';
import type { HostFs } from '../host/host-fs.js';
import {
  deviceSizeBytes,
  dmName,
  flushBuffers,
  holders,
  kernelName,
  readSysfsWwid,
  scsiIdFromWwid,
  slaves,
} from '../host/block-device.js';
import { waitFor } from '../host/wait.js';
import { abortReason } from '../host/abort.js';
import { errorMessage, failedPrecondition, invalidArgument, unavailable } from '../util/errors.js';
import type { IscsiConnection, IscsiTarget } from './connection-data.js';
import type { AttachedDevice, ConnectOptions, Connector, DisconnectOptions } from './connector.js';
import {
  byPathLink,
  findSession,
  lunOfScsiDevice,
  normalizePortal,
  parseSendTargets,
  parseSessions,
  parseTargetDir,
  targetKey,
  validateTarget,
  type Hctl,
  type IscsiSession,
} from './iscsi-sessions.js';
import { KeyedMutex } from './keyed-mutex.js';

export interface IscsiConnectorOptions {
  exec: Exec;
  fs: HostFs;
  log?: Logger;
  /** Shared by every connector instance of the process (sessions are per host). */
  locks?: KeyedMutex;
  /** Bound for one LUN to show up after login and scan. Default 30 s. */
  deviceTimeoutMs?: number;
  /** Bound for multipathd to build the dm device once a path is there. Default 30 s. */
  multipathTimeoutMs?: number;
  /** Bound for a whole connect when the caller gives none. Default 120 s. */
  connectTimeoutMs?: number;
  /** Re-check interval for sysfs (no change events there). Default 100 ms. */
  pollMs?: number;
  /** iscsiadm interface (iface) name. Default `default` (software iSCSI over TCP). */
  iface?: string;
}

/** iscsiadm exit codes (open-iscsi include/iscsi_err.h). */
export const ISCSI_ERR_IDBM = 6;
export const ISCSI_ERR_SESS_EXISTS = 15;
export const ISCSI_ERR_NO_OBJS_FOUND = 21;

const SCSI_DISK = /^\/dev\/sd[a-z]+$/;
const DM_DEV = /^\/dev\/dm-\d+$/;

const defaultLocks = new KeyedMutex();

interface PathDevice {
  target: IscsiTarget;
  device: string;
}

/**
 * Software iSCSI through open-iscsi's iscsiadm, after os-brick's ISCSIConnector: node records
 * with node.startup=manual and manual scan, CHAP in the record, logins in parallel for
 * multipath, a scan of our LUN only, waiting for the udev link by watching, and a disconnect
 * that logs out only sessions no other LUN uses.
 */
export class IscsiConnector implements Connector<IscsiConnection> {
  private readonly exec: Exec;
  private readonly fs: HostFs;
  private readonly log: Logger;
  private readonly locks: KeyedMutex;
  private readonly deviceTimeoutMs: number;
  private readonly multipathTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly pollMs: number;
  private readonly iface: string;

  constructor(options: IscsiConnectorOptions) {
    this.exec = options.exec;
    this.fs = options.fs;
    this.log = options.log ?? silentLogger();
    this.locks = options.locks ?? defaultLocks;
    this.deviceTimeoutMs = options.deviceTimeoutMs ?? 30_000;
    this.multipathTimeoutMs = options.multipathTimeoutMs ?? 30_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 120_000;
    this.pollMs = options.pollMs ?? 100;
    this.iface = options.iface ?? 'default';
  }

  async connect(conn: IscsiConnection, opts: ConnectOptions = {}): Promise<AttachedDevice> {
    const deadline = Date.now() + (opts.timeoutMs ?? this.connectTimeoutMs);
    const targets = checkConnection(conn);
    const secrets = secretsOf(conn);
    const signal = opts.signal;

    if (conn.multipath) {
      const paths = await this.multipathTargets(conn, targets, secrets, signal);
      return this.locks.runAll(paths.map(targetKey), async () => {
        try {
          return await this.connectMultipath(conn, paths, secrets, signal, deadline);
        } catch (err) {
          await this.cleanupAfterFailure(conn, paths, signal);
          throw err;
        }
      });
    }

    // Single path: the targets are alternatives; the first that gives a device wins.
    const errors: string[] = [];
    for (const target of targets) {
      try {
        return await this.locks.run(targetKey(target), async () => {
          try {
            const [found] = await this.connectPaths(conn, [target], secrets, signal, deadline, 'all');
            if (!found) throw new Error('no device');
            const wwn = await this.wwnOf(found.device);
            this.log.info({ portal: target.portal, iqn: target.iqn, lun: target.lun, device: found.device }, 'iscsi volume connected');
            return { path: found.device, ...(wwn ? { wwn } : {}), multipath: false };
          } catch (err) {
            await this.cleanupAfterFailure(conn, [target], signal);
            throw err;
          }
        });
      } catch (err) {
        if (signal?.aborted) throw err;
        if (targets.length === 1) throw err;
        errors.push(`${target.portal}: ${errorMessage(err)}`);
        this.log.warn({ portal: target.portal, iqn: target.iqn, err: errorMessage(err) }, 'iscsi portal failed, trying the next one');
      }
    }
    throw unavailable(`could not connect to any iSCSI portal: ${errors.join('; ')}`);
  }

  async findDevice(conn: IscsiConnection, opts: { signal?: AbortSignal } = {}): Promise<AttachedDevice | undefined> {
    const targets = checkConnection(conn);
    const paths = conn.multipath ? await this.knownPaths(targets, opts.signal) : targets;
    const found = await this.pathDevices(paths);
    const first = found[0];
    if (!first) return undefined;
    const wwn = await this.wwnOf(first.device);
    if (conn.multipath) {
      const dm = await this.dmOf(found.map((f) => f.device), wwn);
      if (!dm) return undefined;
      return { path: dm, ...(wwn ? { wwn } : {}), multipath: true };
    }
    return { path: first.device, ...(wwn ? { wwn } : {}), multipath: false };
  }

  async disconnect(conn: IscsiConnection, device: AttachedDevice | undefined, opts: DisconnectOptions = {}): Promise<void> {
    const targets = checkConnection(conn);
    const paths = conn.multipath ? await this.knownPaths(targets, opts.signal) : targets;
    await this.locks.runAll(paths.map(targetKey), () => this.disconnectLocked(conn, paths, device, opts));
  }

  async extend(conn: IscsiConnection, device: AttachedDevice, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const targets = checkConnection(conn);
    const paths = conn.multipath ? await this.knownPaths(targets, opts.signal) : targets;
    const disks = new Set((await this.pathDevices(paths)).map((p) => p.device));
    if (DM_DEV.test(device.path)) for (const s of await slaves(this.fs, device.path)) disks.add(`/dev/${s}`);
    else if (SCSI_DISK.test(device.path)) disks.add(device.path);
    if (disks.size === 0) throw failedPrecondition(`no SCSI path of ${device.path} is present on this host`);
    for (const disk of disks) {
      await this.fs.writeFile(`/sys/block/${kernelName(disk)}/device/rescan`, '1');
    }
    if (DM_DEV.test(device.path)) {
      const name = (await dmName(this.fs, device.path)) ?? device.path;
      await this.exec.run('multipathd', ['resize', 'map', name], { signal: opts.signal });
    }
    const size = await deviceSizeBytes(this.fs, device.path);
    this.log.info({ device: device.path, sizeBytes: size }, 'iscsi volume rescanned');
    return size;
  }

  // ---- connect -------------------------------------------------------------------------------

  private async connectMultipath(
    conn: IscsiConnection,
    paths: IscsiTarget[],
    secrets: string[],
    signal: AbortSignal | undefined,
    deadline: number,
  ): Promise<AttachedDevice> {
    const found = await this.connectPaths(conn, paths, secrets, signal, deadline, 'any');
    const disks = found.map((f) => f.device);
    const first = disks[0];
    if (!first) throw unavailable('no iSCSI path came up');
    const wwid = await waitFor(`the WWID of ${first}`, () => readSysfsWwid(this.fs, first), {
      timeoutMs: Math.min(10_000, remaining(deadline)),
      signal,
      pollMs: this.pollMs,
    });
    const scsiId = scsiIdFromWwid(wwid);
    if (!scsiId) throw failedPrecondition(`${first} has WWID ${wwid}, which multipath cannot use`);
    const link = `/dev/disk/by-id/dm-uuid-mpath-${scsiId}`;
    const dm = await waitFor(
      `the multipath device ${link}`,
      async () => {
        const d = await this.dmOf(
          (await this.pathDevices(paths)).map((p) => p.device),
          scsiId,
        );
        return d;
      },
      {
        timeoutMs: Math.min(this.multipathTimeoutMs, remaining(deadline)),
        signal,
        pollMs: this.pollMs,
        watch: this.fs.watcher([link]),
      },
    );
    this.log.info({ iqn: paths[0]?.iqn, paths: disks, device: dm, wwn: scsiId }, 'iscsi multipath volume connected');
    return { path: dm, wwn: scsiId, multipath: true };
  }

  /**
   * Records for every path, one session listing, the missing logins in parallel, a scan of our
   * LUN on each session, then wait for the devices: `all` of them, or `any` (multipath: the other
   * paths join the map when they come).
   */
  private async connectPaths(
    conn: IscsiConnection,
    paths: IscsiTarget[],
    secrets: string[],
    signal: AbortSignal | undefined,
    deadline: number,
    wait: 'all' | 'any',
  ): Promise<PathDevice[]> {
    for (const t of paths) await this.ensureNodeRecord(conn, t, secrets, signal, deadline);

    let sessions = await this.sessions(signal);
    const missing = paths.filter((t) => !findSession(sessions, t));
    if (missing.length) {
      const results = await Promise.allSettled(missing.map((t) => this.login(t, secrets, signal, deadline)));
      const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [{ t: missing[i], err: r.reason as unknown }] : []));
      for (const f of failures) {
        this.log.warn({ portal: f.t?.portal, iqn: f.t?.iqn, err: errorMessage(f.err) }, 'iscsi login failed');
      }
      if (signal?.aborted) throw abortReason(signal);
      if (failures.length === paths.length || (wait === 'all' && failures.length)) {
        const f = failures[0];
        throw f?.err instanceof Error ? f.err : unavailable(`iSCSI login failed: ${errorMessage(f?.err)}`);
      }
      sessions = await this.sessions(signal);
    }

    const scanned: IscsiTarget[] = [];
    for (const t of paths) {
      const s = findSession(sessions, t);
      if (!s) continue;
      const hctl = await waitFor(`the SCSI target of iSCSI session ${s.sid}`, () => this.hctlOf(s.sid), {
        timeoutMs: Math.min(this.deviceTimeoutMs, remaining(deadline)),
        signal,
        pollMs: this.pollMs,
      });
      await this.fs.writeFile(`/sys/class/scsi_host/host${hctl.host}/scan`, `${hctl.channel} ${hctl.target} ${t.lun}`);
      scanned.push(t);
    }
    if (!scanned.length) throw unavailable(`no iSCSI session is listed for ${paths.map((t) => `${t.iqn} at ${t.portal}`).join(', ')}`);

    const waitOne = async (t: IscsiTarget): Promise<PathDevice> => {
      const link = byPathLink(t);
      await this.fs.waitForPath(link, { timeoutMs: Math.min(this.deviceTimeoutMs, remaining(deadline)), signal, pollMs: this.pollMs });
      const device = await this.fs.realpath(link);
      if (!device) throw unavailable(`${link} disappeared`);
      return { target: t, device };
    };
    if (wait === 'all') return Promise.all(scanned.map(waitOne));
    const first = await Promise.any(scanned.map(waitOne)).catch((err: unknown) => {
      throw err instanceof AggregateError && err.errors[0] instanceof Error ? err.errors[0] : err;
    });
    // Whatever else is already there counts too.
    const others = (await this.pathDevices(scanned)).filter((p) => p.device !== first.device);
    return [first, ...others];
  }

  private async ensureNodeRecord(
    conn: IscsiConnection,
    t: IscsiTarget,
    secrets: string[],
    signal: AbortSignal | undefined,
    deadline: number,
  ): Promise<void> {
    const o = this.execOpts(secrets, signal, deadline);
    // 21 = no record (255 from open-iscsi before 2.0-871): create it.
    const shown = await this.node(t, [], { ...o, okExitCodes: [ISCSI_ERR_NO_OBJS_FOUND, 255] });
    if (shown.exitCode !== 0) {
      await this.node(t, ['--interface', this.iface, '--op', 'new'], o);
    }
    // kubelet stages again after a reboot: the host must not log in on its own.
    await this.update(t, 'node.startup', 'manual', o);
    // Scan only the LUNs we ask for (not every LUN the target exports); older open-iscsi lacks
    // the setting and scans all, which is harmless: we scan ours explicitly anyway.
    try {
      await this.update(t, 'node.session.scan', 'manual', o);
    } catch (err) {
      if (signal?.aborted) throw err;
      this.log.debug({ iqn: t.iqn, err: errorMessage(err) }, 'iscsiadm has no node.session.scan; automatic scan');
    }
    if (conn.auth) {
      await this.update(t, 'node.session.auth.authmethod', conn.auth.method, o);
      await this.update(t, 'node.session.auth.username', conn.auth.username, o);
      await this.update(t, 'node.session.auth.password', conn.auth.password, o);
    }
  }

  private async login(t: IscsiTarget, secrets: string[], signal: AbortSignal | undefined, deadline: number): Promise<void> {
    await this.node(t, ['--login'], { ...this.execOpts(secrets, signal, deadline), okExitCodes: [ISCSI_ERR_SESS_EXISTS] });
    this.log.debug({ portal: t.portal, iqn: t.iqn }, 'iscsi logged in');
  }

  /**
   * Multipath with a single portal from Cinder: ask that portal (sendtargets) which portals
   * export the same IQN. Nonpersistent: no node records are written for what is found; the
   * discovery record that holds discovery CHAP is deleted again. Targets with other IQNs are
   * ignored (they may be another tenant's).
   */
  private async multipathTargets(
    conn: IscsiConnection,
    targets: IscsiTarget[],
    secrets: string[],
    signal: AbortSignal | undefined,
  ): Promise<IscsiTarget[]> {
    const main = targets[0];
    if (targets.length !== 1 || !main) return targets;
    const base = ['-m', 'discoverydb', '-t', 'sendtargets', '-p', main.portal, '-I', this.iface];
    const o: ExecOptions = { secrets, signal };
    let stdout: string;
    try {
      if (conn.discoveryAuth) {
        const auth = conn.discoveryAuth;
        const update = (): Promise<ExecResult> =>
          this.exec.run(
            'iscsiadm',
            [
              ...base,
              '--op',
              'update',
              '-n',
              'discovery.sendtargets.auth.authmethod',
              '-v',
              auth.method,
              '-n',
              'discovery.sendtargets.auth.username',
              '-v',
              auth.username,
              '-n',
              'discovery.sendtargets.auth.password',
              '-v',
              auth.password,
            ],
            o,
          );
        try {
          try {
            await update();
          } catch (err) {
            // 6 = no such discovery record yet: create it, then set the credentials.
            if (!(err instanceof ExecError) || err.exitCode !== ISCSI_ERR_IDBM) throw err;
            await this.exec.run('iscsiadm', [...base, '--op', 'new'], o);
            await update();
          }
          stdout = (await this.exec.run('iscsiadm', [...base, '--discover', '--op', 'nonpersistent'], o)).stdout;
        } finally {
          // The discovery record keeps the password in clear text under /etc/iscsi. A missing
          // record answers 6 (open-iscsi 2.1.8).
          await this.exec
            .run('iscsiadm', [...base, '--op', 'delete'], { ...o, okExitCodes: [ISCSI_ERR_IDBM, ISCSI_ERR_NO_OBJS_FOUND] })
            .catch((err: unknown) => this.log.warn({ portal: main.portal, err: errorMessage(err) }, 'could not delete the iSCSI discovery record'));
        }
      } else {
        stdout = (
          await this.exec.run(
            'iscsiadm',
            ['-m', 'discovery', '-t', 'sendtargets', '-p', main.portal, '-I', this.iface, '--op', 'nonpersistent'],
            o,
          )
        ).stdout;
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      this.log.warn({ portal: main.portal, err: errorMessage(err) }, 'iscsi discovery failed; using the portal Cinder gave');
      return targets;
    }
    const paths = [main];
    for (const d of parseSendTargets(stdout)) {
      if (d.iqn !== main.iqn) continue;
      let portal: string;
      try {
        portal = normalizePortal(d.portal);
      } catch {
        continue;
      }
      if (!paths.some((p) => p.portal === portal)) paths.push({ portal, iqn: main.iqn, lun: main.lun });
    }
    return paths;
  }

  // ---- disconnect ----------------------------------------------------------------------------

  private async disconnectLocked(
    conn: IscsiConnection,
    paths: IscsiTarget[],
    device: AttachedDevice | undefined,
    opts: DisconnectOptions,
  ): Promise<void> {
    const { signal } = opts;
    const disks = new Map<string, IscsiTarget | undefined>();
    for (const p of await this.pathDevices(paths)) disks.set(p.device, p.target);
    let dm: string | undefined;
    if (device && DM_DEV.test(device.path) && (await this.fs.exists(device.path))) {
      dm = device.path;
      for (const s of await slaves(this.fs, dm)) if (!disks.has(`/dev/${s}`)) disks.set(`/dev/${s}`, undefined);
    } else if (conn.multipath) {
      dm = await this.dmOf([...disks.keys()], undefined);
    } else if (device && SCSI_DISK.test(device.path) && (await this.fs.exists(device.path)) && !disks.has(device.path)) {
      disks.set(device.path, undefined);
    }

    // 1. flush, 2. remove the multipath map, 3. delete every SCSI device.
    if (dm) {
      await flushBuffers(this.exec, dm, signal);
      const name = (await dmName(this.fs, dm)) ?? dm;
      await this.exec.run('multipath', ['-f', name], { signal });
    }
    for (const disk of disks.keys()) {
      try {
        await flushBuffers(this.exec, disk, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        // Behind a multipath map the data is already flushed through the map; a dead path
        // cannot be flushed. A single path with data not written stops here unless forced.
        if (!dm && !opts.force) throw err;
        this.log.warn({ device: disk, err: errorMessage(err) }, 'flush failed; removing the path anyway');
      }
      const name = kernelName(disk);
      await this.fs.writeFile(`/sys/block/${name}/device/delete`, '1');
      await this.fs
        .waitForPathGone(`/sys/block/${name}`, { timeoutMs: 10_000, signal, pollMs: this.pollMs })
        .catch((err: unknown) => {
          if (signal?.aborted) throw err;
          this.log.warn({ device: disk, err: errorMessage(err) }, 'SCSI device still present after delete');
        });
    }

    // 4. log out of sessions no other LUN uses, 5. delete their node records.
    const sessions = await this.sessions(signal);
    for (const t of paths) await this.logoutIfUnused(t, sessions, signal);
    this.log.info({ iqn: paths[0]?.iqn, lun: paths[0]?.lun, devices: [...disks.keys()], dm }, 'iscsi volume disconnected');
  }

  private async logoutIfUnused(t: IscsiTarget, sessions: IscsiSession[], signal: AbortSignal | undefined): Promise<void> {
    const s = findSession(sessions, t);
    if (s) {
      const others = await this.otherLuns(s.sid, t.lun);
      if (others.length) {
        this.log.info({ portal: t.portal, iqn: t.iqn, luns: others }, 'iscsi session kept: other LUNs of the target are in use');
        return;
      }
      await this.node(t, ['--logout'], { signal, okExitCodes: [ISCSI_ERR_NO_OBJS_FOUND] });
    }
    // The record holds the CHAP secret in clear text: do not leave it behind.
    await this.node(t, ['--op', 'delete'], { signal, okExitCodes: [ISCSI_ERR_NO_OBJS_FOUND] });
  }

  /**
   * Undo a failed connect (devices, sessions no other LUN uses, records). Not when the caller
   * gave up: every command would be refused at once; the retry continues from what is there.
   */
  private async cleanupAfterFailure(conn: IscsiConnection, paths: IscsiTarget[], signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return;
    try {
      await this.disconnectLocked(conn, paths, undefined, { force: true });
    } catch (err) {
      this.log.warn({ iqn: paths[0]?.iqn, err: errorMessage(err) }, 'cleanup after a failed iscsi connect failed');
    }
  }

  // ---- host state ----------------------------------------------------------------------------

  private async sessions(signal: AbortSignal | undefined): Promise<IscsiSession[]> {
    const r = await this.exec.run('iscsiadm', ['-m', 'session'], { signal, okExitCodes: [ISCSI_ERR_NO_OBJS_FOUND] });
    return r.exitCode === ISCSI_ERR_NO_OBJS_FOUND ? [] : parseSessions(r.stdout);
  }

  /** For multipath, the portals we are logged in to for this IQN besides the given ones. */
  private async knownPaths(targets: IscsiTarget[], signal: AbortSignal | undefined): Promise<IscsiTarget[]> {
    const paths = [...targets];
    const main = targets[0];
    if (!main) return paths;
    for (const s of await this.sessions(signal)) {
      if (s.iqn !== main.iqn) continue;
      let portal: string;
      try {
        portal = normalizePortal(s.portal);
      } catch {
        continue;
      }
      if (!paths.some((p) => p.portal === portal && p.iqn === s.iqn)) paths.push({ portal, iqn: s.iqn, lun: main.lun });
    }
    return paths;
  }

  private async hctlOf(sid: number): Promise<Hctl | undefined> {
    for (const name of await this.fs.readdir(`/sys/class/iscsi_session/session${sid}/device`)) {
      const h = parseTargetDir(name);
      if (h) return h;
    }
    return undefined;
  }

  /** LUNs other than `lun` that the session exposes as SCSI devices. */
  private async otherLuns(sid: number, lun: number): Promise<number[]> {
    const hctl = await this.hctlOf(sid);
    if (!hctl) return [];
    const dir = `/sys/class/iscsi_session/session${sid}/device/target${hctl.host}:${hctl.channel}:${hctl.target}`;
    const luns: number[] = [];
    for (const name of await this.fs.readdir(dir)) {
      const l = lunOfScsiDevice(name);
      if (l !== undefined && l !== lun) luns.push(l);
    }
    return luns;
  }

  /** The SCSI disks present for these paths (via their /dev/disk/by-path links). */
  private async pathDevices(paths: IscsiTarget[]): Promise<PathDevice[]> {
    const out: PathDevice[] = [];
    for (const t of paths) {
      const device = await this.fs.realpath(byPathLink(t));
      if (device && SCSI_DISK.test(device)) out.push({ target: t, device });
    }
    return out;
  }

  /** The dm device over these disks: by its by-id link, else a dm-* holder of a disk. */
  private async dmOf(disks: string[], scsiId: string | undefined): Promise<string | undefined> {
    if (scsiId) {
      const d = await this.fs.realpath(`/dev/disk/by-id/dm-uuid-mpath-${scsiId}`);
      if (d && DM_DEV.test(d)) return d;
    }
    for (const disk of disks) {
      const h = (await holders(this.fs, disk)).find((n) => /^dm-\d+$/.test(n));
      if (h) return `/dev/${h}`;
    }
    return undefined;
  }

  private async wwnOf(disk: string): Promise<string | undefined> {
    const wwid = await readSysfsWwid(this.fs, disk);
    return wwid ? scsiIdFromWwid(wwid) ?? wwid : undefined;
  }

  private node(t: IscsiTarget, args: string[], options: ExecOptions): Promise<ExecResult> {
    return this.exec.run('iscsiadm', ['-m', 'node', '-T', t.iqn, '-p', t.portal, ...args], options);
  }

  private update(t: IscsiTarget, name: string, value: string, options: ExecOptions): Promise<ExecResult> {
    return this.node(t, ['--op', 'update', '-n', name, '-v', value], options);
  }

  private execOpts(secrets: string[], signal: AbortSignal | undefined, deadline: number): ExecOptions {
    return { secrets, signal, timeoutMs: Math.max(1_000, remaining(deadline)) };
  }
}

function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}

function secretsOf(conn: IscsiConnection): string[] {
  return [conn.auth?.password, conn.discoveryAuth?.password].filter((s): s is string => !!s);
}

/** Validate what reaches iscsiadm's argv: no option-looking names, sane portals and LUNs. */
function checkConnection(conn: IscsiConnection): IscsiTarget[] {
  if (!conn.targets.length) throw invalidArgument('iSCSI connection data has no target');
  for (const a of [conn.auth, conn.discoveryAuth]) {
    if (!a) continue;
    if (a.method !== 'CHAP') throw invalidArgument(`iSCSI auth method ${JSON.stringify(a.method)} is not supported`);
    if (!a.username || /\s/.test(a.username)) throw invalidArgument('iSCSI CHAP user name is empty or has white space');
    if (!a.password) throw invalidArgument('iSCSI CHAP password is empty');
  }
  const out: IscsiTarget[] = [];
  for (const t of conn.targets.map(validateTarget)) {
    if (!out.some((o) => o.portal === t.portal && o.iqn === t.iqn && o.lun === t.lun)) out.push(t);
  }
  return out;
}
