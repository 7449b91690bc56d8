import { makeExecError } from '../../src/host/exec-execa.js';
import { maskArgs, type Exec, type ExecOptions, type ExecResult } from '../../src/host/exec.js';
import { FakeHostFs } from './fake-host-fs.js';

/**
 * A simulated iSCSI host: open-iscsi's iscsiadm, the kernel's SCSI layer in sysfs, multipathd and
 * a storage array, for the connector's unit tests. It behaves like the real ones as the
 * real-kernel tier (test/real-kernel) showed them, including where a naive fake would not:
 *   - a login creates the session and its SCSI host, but no target directory: with manual scan
 *     the kernel knows nothing of the LUNs until `- - <lun>` (or `<c> <t> <lun>`) is written to
 *     the host's scan attribute;
 *   - a scan of all LUNs (`- - -`) also brings tgt's LUN 0, a controller (SCSI type 12);
 *   - sysfs attributes are opened write-only by the real HostFs (they refuse read-write);
 *   - multipathd with `find_multipaths strict` ignores a path until its WWID was added;
 *   - a login to a portal that does not answer takes iscsid's retries before failing.
 * Every command is journaled (with secrets masked) so tests can assert transcripts.
 */
export interface ArrayLun {
  /** sysfs wwid, e.g. naa.6001405… */
  wwid: string;
  sizeBytes?: number;
  /** SCSI type; 0 = disk (default). */
  type?: number;
  /** Appears only after this many scans (an array slow to export a new LUN). */
  visibleAfterScans?: number;
}

export interface ArrayTarget {
  iqn: string;
  portals: string[];
  luns: Map<number, ArrayLun>;
  chap?: { username: string; password: string };
}

interface Session {
  sid: number;
  host: number;
  iqn: string;
  portal: string;
  iface: string;
  target: boolean;
  /** kernel LUN → disk name */
  disks: Map<number, string>;
  scans: number;
}

interface DmMap {
  dm: string;
  /** scsi_id form (36001405…), also the map's name. */
  wwid: string;
  paths: Set<string>;
}

export class FakeIscsiHost implements Exec {
  readonly fs: FakeHostFs;
  readonly journal: string[];
  readonly targets = new Map<string, ArrayTarget>();
  readonly records = new Map<string, Record<string, string>>();
  readonly ifaces = new Set<string>(['default']);
  readonly sessions: Session[] = [];
  /** Portals whose logins fail after `loginFailMs`. */
  readonly unreachable = new Set<string>();
  loginFailMs = 50;
  multipathd: { running: boolean; findMultipaths: 'strict' | 'no'; wwids: Set<string>; maps: DmMap[]; ignore: boolean } = {
    running: true,
    findMultipaths: 'strict',
    wwids: new Set(),
    maps: [],
    ignore: false,
  };
  /** Devices whose flush fails (live but broken); `multipath -f` failures left for a map. */
  readonly failFlush = new Set<string>();
  mapBusy = 0;
  /** An open-iscsi older than 2.0.877: no node.session.scan, an update naming it fails whole. */
  noManualScan = false;
  /** Calls of each program, in order (masked). */
  readonly calls: string[] = [];
  private nextSid = 1;
  private nextHost = 2;
  private nextDisk = 0;
  private nextDm = 0;

  constructor(journal: string[] = []) {
    this.journal = journal;
    this.fs = new FakeHostFs(journal);
    this.fs.dir('/sys/class/iscsi_host');
  }

  addTarget(t: ArrayTarget): this {
    this.targets.set(t.iqn, t);
    return this;
  }

  /** A disk that exists on the host but belongs to nobody we know (another volume's). */
  strayDisk(name: string, wwid: string): this {
    this.makeDiskNodes(name, wwid, 1 << 30);
    return this;
  }

  sessionOf(iqn: string, portal: string): Session | undefined {
    return this.sessions.find((s) => s.iqn === iqn && s.portal === portal);
  }

  diskNames(): string[] {
    return this.sessions.flatMap((s) => [...s.disks.values()]);
  }

  async run(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const shown = `${command} ${maskArgs(args, options.secrets).join(' ')}`;
    this.calls.push(shown);
    this.journal.push(`exec ${shown}`);
    if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted');
    let r: { exitCode: number; stdout?: string; stderr?: string };
    switch (command) {
      case 'iscsiadm':
        r = await this.iscsiadm(args);
        break;
      case 'multipathd':
        r = this.multipathdCmd(args);
        break;
      case 'multipath':
        r = this.multipathCmd(args);
        break;
      case 'blockdev':
        r = this.failFlush.has(args[1] ?? '') ? { exitCode: 1, stderr: 'blockdev: ioctl error on BLKFLSBUF: Input/output error' } : { exitCode: 0 };
        break;
      default:
        throw new Error(`FakeIscsiHost: unexpected program ${command}`);
    }
    const result = { exitCode: r.exitCode, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    if (result.exitCode !== 0 && !(options.okExitCodes ?? []).includes(result.exitCode)) {
      throw makeExecError(command, args, options.secrets, { exitCode: result.exitCode, stderr: result.stderr });
    }
    return result;
  }

  // ---- iscsiadm ----------------------------------------------------------------------------

  private async iscsiadm(a: readonly string[]): Promise<{ exitCode: number; stdout?: string; stderr?: string }> {
    const mode = opt(a, '-m');
    if (mode === 'session') {
      if (!this.sessions.length) return { exitCode: 21, stderr: 'iscsiadm: No active sessions.' };
      return { exitCode: 0, stdout: this.sessions.map((s) => `tcp: [${s.sid}] ${s.portal},1 ${s.iqn} (non-flash)`).join('\n') + '\n' };
    }
    if (mode === 'iface') {
      const name = opt(a, '-I') ?? '';
      const op = opt(a, '--op');
      if (!op) return this.ifaces.has(name) ? { exitCode: 0, stdout: `iface.iscsi_ifacename = ${name}\n` } : { exitCode: 6, stderr: `iscsiadm: Could not read iface ${name} (6)` };
      if (op === 'new') {
        this.ifaces.add(name);
        return { exitCode: 0, stdout: `${name} added\n` };
      }
      return { exitCode: 0 };
    }
    if (mode === 'discovery' || mode === 'discoverydb') {
      if (a.includes('--op') && (opt(a, '--op') === 'new' || opt(a, '--op') === 'update' || opt(a, '--op') === 'delete') && !a.includes('--discover')) return { exitCode: 0 };
      const portal = opt(a, '-p') ?? '';
      const lines: string[] = [];
      for (const t of this.targets.values()) if (t.portals.includes(portal)) for (const p of t.portals) lines.push(`${p},1 ${t.iqn}`);
      return { exitCode: 0, stdout: `${lines.join('\n')}\n` };
    }
    if (mode !== 'node') throw new Error(`FakeIscsiHost: iscsiadm -m ${mode}`);
    const iqn = opt(a, '-T') ?? '';
    const portal = opt(a, '-p') ?? '';
    const iface = opt(a, '-I') ?? 'default';
    const key = `${iqn}|${portal}|${iface}`;
    const rec = this.records.get(key);
    const op = opt(a, '--op');
    if (op === 'new') {
      if (!this.ifaces.has(iface)) return { exitCode: 6, stderr: `iscsiadm: Could not read iface ${iface}` };
      this.records.set(key, {});
      return { exitCode: 0 };
    }
    if (op === 'update') {
      if (!rec) return { exitCode: 21, stderr: 'iscsiadm: No records found' };
      if (this.noManualScan && a.includes('node.session.scan')) return { exitCode: 7, stderr: 'iscsiadm: Cannot modify node.session.scan' };
      for (let i = 0; i < a.length; i++) if (a[i] === '-n') rec[a[i + 1] ?? ''] = a[i + 3] ?? '';
      return { exitCode: 0 };
    }
    if (op === 'delete') {
      if (!rec) return { exitCode: 21, stderr: 'iscsiadm: No records found' };
      this.records.delete(key);
      return { exitCode: 0 };
    }
    if (a.includes('--login')) return this.login(iqn, portal, iface, rec);
    if (a.includes('--logout')) {
      const s = this.sessionOf(iqn, portal);
      if (!s) return { exitCode: 21, stderr: 'iscsiadm: No matching sessions found' };
      if (s.disks.size) throw new Error(`FakeIscsiHost: logout of session ${s.sid} with disks ${[...s.disks.values()].join(',')} still present`);
      this.sessions.splice(this.sessions.indexOf(s), 1);
      this.fs
        .remove(`/sys/class/iscsi_host/host${s.host}`)
        .remove(`/sys/class/scsi_host/host${s.host}`)
        .remove(`/sys/class/iscsi_session/session${s.sid}`)
        .remove(`/sys/class/iscsi_connection/connection${s.sid}:0`);
      return { exitCode: 0 };
    }
    return rec ? { exitCode: 0, stdout: `node.name = ${iqn}\n` } : { exitCode: 21, stderr: 'iscsiadm: No records found' };
  }

  private async login(iqn: string, portal: string, iface: string, rec: Record<string, string> | undefined): Promise<{ exitCode: number; stderr?: string }> {
    if (!rec) return { exitCode: 21, stderr: 'iscsiadm: No records found' };
    if (this.sessionOf(iqn, portal)) return { exitCode: 15, stderr: 'iscsiadm: session exists' };
    if (this.unreachable.has(portal)) {
      await new Promise((r) => setTimeout(r, this.loginFailMs));
      return { exitCode: 8, stderr: `iscsiadm: Could not login to [iface: ${iface}, target: ${iqn}, portal: ${portal}]. iscsiadm: initiator reported error (8 - connection timed out)` };
    }
    const t = this.targets.get(iqn);
    if (!t || !t.portals.includes(portal)) return { exitCode: 24, stderr: 'iscsiadm: target not found' };
    if (t.chap && (rec['node.session.auth.username'] !== t.chap.username || rec['node.session.auth.password'] !== t.chap.password)) {
      return { exitCode: 24, stderr: 'iscsiadm: initiator reported error (24 - iSCSI login failed due to authorization failure)' };
    }
    const s: Session = { sid: this.nextSid++, host: this.nextHost++, iqn, portal, iface, target: false, disks: new Map(), scans: 0 };
    this.sessions.push(s);
    // The session and its SCSI host — but no target directory until a scan finds a LUN.
    this.fs.dir(`/sys/class/iscsi_host/host${s.host}/device/session${s.sid}`);
    // What iscsiadm -m session itself reads: the target name and the connection's portal.
    this.fs.file(`/sys/class/iscsi_session/session${s.sid}/ifacename`, `${iface}\n`);
    this.fs.file(`/sys/class/iscsi_session/session${s.sid}/targetname`, `${iqn}\n`);
    this.fs.file(`/sys/class/iscsi_session/session${s.sid}/tpgt`, '1\n');
    const [address, port] = splitPortal(portal);
    this.fs.file(`/sys/class/iscsi_connection/connection${s.sid}:0/persistent_address`, `${address}\n`);
    this.fs.file(`/sys/class/iscsi_connection/connection${s.sid}:0/persistent_port`, `${port}\n`);
    this.fs.file(`/sys/class/scsi_host/host${s.host}/scan`, '');
    this.fs.onWrite(`/sys/class/scsi_host/host${s.host}/scan`, (_p, data) => this.scan(s, data));
    if (rec['node.session.scan'] !== 'manual') this.scan(s, '- - -');
    return { exitCode: 0 };
  }

  private scan(s: Session, data: string): void {
    const m = /^(\d+|-) (\d+|-) (\d+|-)$/.exec(data.trim());
    if (!m) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
    if (!this.sessions.includes(s)) return;
    s.scans++;
    const t = this.targets.get(s.iqn);
    if (!t) return;
    const wanted = m[3] === '-' ? undefined : Number(m[3]);
    const luns = wanted === undefined ? [0, ...t.luns.keys()] : [wanted];
    for (const lun of luns) {
      if (s.disks.has(lun)) continue;
      const l = lun === 0 && !t.luns.has(0) ? { wwid: 'naa.controller', type: 12 } : t.luns.get(lun);
      if (!l || (l.visibleAfterScans ?? 1) > s.scans) continue;
      s.target = true;
      const dir = `/sys/class/iscsi_host/host${s.host}/device/session${s.sid}/target${s.host}:0:0/${s.host}:0:0:${lun}`;
      this.fs.file(`${dir}/type`, `${l.type ?? 0}\n`);
      if ((l.type ?? 0) !== 0) continue;
      const disk = this.newDiskName();
      s.disks.set(lun, disk);
      this.fs.dir(`${dir}/block/${disk}`);
      this.makeDiskNodes(disk, l.wwid, l.sizeBytes ?? 1 << 30);
      this.fs.onWrite(`/sys/block/${disk}/device/delete`, () => {
        s.disks.delete(lun);
        this.fs.remove(dir).remove(`/sys/block/${disk}`).remove(`/sys/class/block/${disk}`).remove(`/dev/${disk}`);
        for (const map of this.multipathd.maps) map.paths.delete(disk);
      });
      this.fs.onWrite(`/sys/block/${disk}/device/rescan`, () => {
        const size = this.targets.get(s.iqn)?.luns.get(lun)?.sizeBytes ?? 1 << 30;
        this.fs.setSize(disk, size);
      });
    }
  }

  private makeDiskNodes(disk: string, wwid: string, sizeBytes: number): void {
    this.fs.scsiDisk(disk, { wwid, sizeBytes });
    this.fs.file(`/sys/block/${disk}/device/state`, 'running\n');
  }

  private newDiskName(): string {
    const name = `sd${String.fromCharCode(97 + this.nextDisk++)}`;
    return this.fs.has(`/sys/block/${name}`) ? this.newDiskName() : name;
  }

  // ---- multipathd / multipath -----------------------------------------------------------

  private multipathdCmd(a: readonly string[]): { exitCode: number; stdout?: string; stderr?: string } {
    const mp = this.multipathd;
    if (!mp.running) return { exitCode: 1, stderr: "error receiving packet" };
    const [verb, what, arg] = a;
    if (verb === 'show' && what === 'status') return { exitCode: 0, stdout: 'path checker states:\nup 2\n' };
    if (verb === 'add' && what === 'path') {
      const disk = (arg ?? '').replace('/dev/', '');
      const wwid = this.wwidOf(disk);
      if (!wwid || mp.ignore) return { exitCode: 0 };
      const id = scsiId(wwid);
      if (mp.findMultipaths === 'strict' && !mp.wwids.has(id)) return { exitCode: 0, stdout: 'blacklisted\n' };
      this.addToMap(id, disk);
      return { exitCode: 0 };
    }
    if (verb === 'del' && what === 'path') {
      for (const m of mp.maps) m.paths.delete((arg ?? '').replace('/dev/', ''));
      return { exitCode: 0 };
    }
    if (verb === 'del' && what === 'map') return this.removeMap(arg ?? '') ? { exitCode: 0 } : { exitCode: 1, stderr: 'fail' };
    if (verb === 'resize' && what === 'map') {
      const map = mp.maps.find((m) => this.mapName(m) === arg);
      if (!map) return { exitCode: 1, stderr: 'fail' };
      const first = [...map.paths][0];
      if (first) this.fs.setSize(map.dm, Number.parseInt(this.fsRead(`/sys/class/block/${first}/size`), 10) * 512);
      return { exitCode: 0, stdout: 'ok\n' };
    }
    throw new Error(`FakeIscsiHost: multipathd ${a.join(' ')}`);
  }

  private multipathCmd(a: readonly string[]): { exitCode: number; stdout?: string; stderr?: string } {
    if (a[0] === '-a') {
      this.multipathd.wwids.add(a[1] ?? '');
      return { exitCode: 0, stdout: `wwid '${a[1]}' added\n` };
    }
    if (a[0] === '-f') {
      if (this.mapBusy > 0) {
        this.mapBusy--;
        return { exitCode: 1, stderr: `${a[1]}: map in use` };
      }
      return this.removeMap(a[1] ?? '') ? { exitCode: 0 } : { exitCode: 1, stderr: 'no such map' };
    }
    throw new Error(`FakeIscsiHost: multipath ${a.join(' ')}`);
  }

  private addToMap(wwid: string, disk: string): void {
    let map = this.multipathd.maps.find((m) => m.wwid === wwid);
    if (!map) {
      map = { dm: `dm-${this.nextDm++}`, wwid, paths: new Set() };
      this.multipathd.maps.push(map);
      const id = wwid;
      this.fs.block(`/dev/${map.dm}`);
      this.fs.file(`/sys/block/${map.dm}/dm/uuid`, `mpath-${id}\n`);
      this.fs.file(`/sys/block/${map.dm}/dm/name`, `${id}\n`);
      this.fs.file(`/sys/class/block/${map.dm}/size`, this.fsRead(`/sys/class/block/${disk}/size`));
    }
    map.paths.add(disk);
    this.fs.dir(`/sys/block/${map.dm}/slaves/${disk}`);
    this.fs.dir(`/sys/block/${disk}/holders/${map.dm}`);
  }

  private removeMap(name: string): boolean {
    const map = this.multipathd.maps.find((m) => this.mapName(m) === name);
    if (!map) return false;
    this.multipathd.maps.splice(this.multipathd.maps.indexOf(map), 1);
    this.fs.remove(`/sys/block/${map.dm}`).remove(`/dev/${map.dm}`).remove(`/sys/class/block/${map.dm}`);
    for (const p of map.paths) this.fs.remove(`/sys/block/${p}/holders/${map.dm}`);
    return true;
  }

  /** The map multipathd made for a SCSI id (36001405…). */
  mapOf(scsiIdent: string): DmMap | undefined {
    return this.multipathd.maps.find((m) => m.wwid === scsiIdent);
  }

  private mapName(m: DmMap): string {
    return m.wwid;
  }

  private wwidOf(disk: string): string | undefined {
    try {
      return this.fsRead(`/sys/block/${disk}/device/wwid`).trim();
    } catch {
      return undefined;
    }
  }

  private fsRead(path: string): string {
    const data = this.fs.peek(path);
    if (data === undefined) throw new Error(`FakeIscsiHost: no ${path}`);
    return data;
  }
}

/** sysfs wwid → the scsi_id form multipath uses (naa.X → 3X). */
function scsiId(wwid: string): string {
  return wwid.startsWith('naa.') ? `3${wwid.slice(4)}` : wwid;
}

function opt(a: readonly string[], name: string): string | undefined {
  const i = a.indexOf(name);
  return i >= 0 ? a[i + 1] : undefined;
}

/** "10.0.0.1:3260" → ["10.0.0.1", "3260"]; "[fd00::1]:3260" → ["fd00::1", "3260"]. */
function splitPortal(portal: string): [string, string] {
  const i = portal.lastIndexOf(':');
  return [portal.slice(0, i).replace(/^\[|\]$/g, ''), portal.slice(i + 1)];
}
