import type { HostFs } from '../../host/host-fs.js';
import { scsiIdFromWwid } from '../../host/block-device.js';
import { parseTargetDir, type Hctl, type IscsiSession } from './target.js';

/**
 * The kernel's view of iSCSI sessions in sysfs: which SCSI host a session is, which LUNs it
 * exposes as which disks. Devices are always found from a session and a LUN — the identity the
 * connector owns — never from a /dev name remembered earlier: after a reboot or a lost session
 * the same name may be another volume's disk.
 *
 *   /sys/class/iscsi_host/host<H>/device/session<S>/target<H>:<C>:<T>/<H>:<C>:<T>:<L>/block/sdX
 */

/** SCSI peripheral device type of a direct-access block device (a disk). */
const TYPE_DISK = 0;

export interface LunDevice {
  hctl: Hctl & { lun: number };
  /** Kernel name of the block device (sdb); undefined while the LUN has no disk yet. */
  disk?: string;
  /** SCSI peripheral type: 0 = disk; 12 = a storage array controller (tgt's LUN 0), … */
  type?: number;
}

export class ScsiSysfs {
  constructor(private readonly fs: HostFs) {}

  /** The SCSI host number of an iSCSI session, or undefined when the session is gone. */
  async hostOf(sid: number): Promise<number | undefined> {
    for (const name of await this.fs.readdir('/sys/class/iscsi_host')) {
      const host = /^host(\d+)$/.exec(name)?.[1];
      if (host !== undefined && (await this.fs.exists(`/sys/class/iscsi_host/host${host}/device/session${sid}`))) return Number(host);
    }
    return undefined;
  }

  /** The session's SCSI target, once the kernel made one (after the first scan that found a LUN). */
  async targetOf(host: number, sid: number): Promise<Hctl | undefined> {
    for (const name of await this.fs.readdir(this.sessionDir(host, sid))) {
      const h = parseTargetDir(name);
      if (h && h.host === host) return h;
    }
    return undefined;
  }

  /**
   * Ask the kernel to probe one LUN of a session. With no target yet (the first LUN of a target
   * this host sees), channel and target are wildcards: "- - <lun>".
   */
  async scan(host: number, target: Hctl | undefined, lun: number): Promise<void> {
    const where = target ? `${target.channel} ${target.target}` : '- -';
    await this.fs.writeFile(`/sys/class/scsi_host/host${host}/scan`, `${where} ${lun}`);
  }

  /** Every LUN the session exposes, with its disk and SCSI type. */
  async luns(host: number, sid: number): Promise<LunDevice[]> {
    const out: LunDevice[] = [];
    const target = await this.targetOf(host, sid);
    if (!target) return out;
    const dir = `${this.sessionDir(host, sid)}/target${target.host}:${target.channel}:${target.target}`;
    for (const name of await this.fs.readdir(dir)) {
      const m = /^(\d+):(\d+):(\d+):(\d+)$/.exec(name);
      if (!m) continue;
      const hctl = { host: Number(m[1]), channel: Number(m[2]), target: Number(m[3]), lun: Number(m[4]) };
      const [disk] = (await this.fs.readdir(`${dir}/${name}/block`)).sort();
      const typeText = await this.fs.readFile(`${dir}/${name}/type`).catch(() => undefined);
      const type = typeText === undefined ? undefined : Number.parseInt(typeText.trim(), 10);
      out.push({ hctl, ...(disk ? { disk } : {}), ...(type !== undefined && Number.isInteger(type) ? { type } : {}) });
    }
    return out;
  }

  /** The disk of one LUN of the session, when the kernel has made it. */
  async diskOf(host: number, sid: number, lun: number): Promise<string | undefined> {
    return (await this.luns(host, sid)).find((l) => l.hctl.lun === lun)?.disk;
  }

  /** Disks of the session other than `lun` (other volumes on a shared target); non-disk LUNs do not count. */
  async otherDisks(host: number, sid: number, lun: number): Promise<string[]> {
    return (await this.luns(host, sid))
      .filter((l) => l.hctl.lun !== lun && l.disk !== undefined && (l.type === undefined || l.type === TYPE_DISK))
      .map((l) => l.disk as string);
  }

  /** The scsi_id-style identifier (36001405…) of a disk, from its sysfs wwid. */
  async scsiId(disk: string): Promise<string | undefined> {
    const text = await this.fs.readFile(`/sys/block/${disk}/device/wwid`).catch(() => undefined);
    const wwid = text?.trim();
    return wwid ? scsiIdFromWwid(wwid) ?? wwid : undefined;
  }

  /** `running`, `offline`, `transport-offline`, `blocked`…; undefined when the disk is gone. */
  async state(disk: string): Promise<string | undefined> {
    return (await this.fs.readFile(`/sys/block/${disk}/device/state`).catch(() => undefined))?.trim();
  }

  async exists(disk: string): Promise<boolean> {
    return this.fs.exists(`/sys/block/${disk}`);
  }

  async sizeBytes(name: string): Promise<number> {
    const text = await this.fs.readFile(`/sys/class/block/${name}/size`);
    return Number.parseInt(text.trim(), 10) * 512;
  }

  /** Re-read the disk's capacity (after the volume was extended). */
  async rescan(disk: string): Promise<void> {
    await this.fs.writeFile(`/sys/block/${disk}/device/rescan`, '1');
  }

  /** Remove the disk from the SCSI layer. The caller has proved it is ours and flushed it. */
  async delete(disk: string): Promise<void> {
    await this.fs.writeFile(`/sys/block/${disk}/device/delete`, '1');
  }

  /** Every device stacked on this one (dm maps, md arrays, …): names under holders/. */
  async holders(name: string): Promise<string[]> {
    return this.fs.readdir(`/sys/block/${name}/holders`);
  }

  /** major:minor of a block device, as mountinfo writes it; undefined when it is gone. */
  async devNumber(name: string): Promise<string | undefined> {
    return (await this.fs.readFile(`/sys/block/${name}/dev`).catch(() => undefined))?.trim() || undefined;
  }

  /** dm devices stacked on a disk (multipath maps). */
  async dmHolders(disk: string): Promise<string[]> {
    return (await this.fs.readdir(`/sys/block/${disk}/holders`)).filter((n) => /^dm-\d+$/.test(n));
  }

  async dmUuid(dm: string): Promise<string | undefined> {
    return (await this.fs.readFile(`/sys/block/${dm}/dm/uuid`).catch(() => undefined))?.trim() || undefined;
  }

  async dmName(dm: string): Promise<string | undefined> {
    return (await this.fs.readFile(`/sys/block/${dm}/dm/name`).catch(() => undefined))?.trim() || undefined;
  }

  /**
   * The iSCSI sessions the kernel holds, read where `iscsiadm -m session` reads them (one process
   * less per look, which counts on a busy node). A session half torn down is skipped.
   *   /sys/class/iscsi_session/session<S>/{targetname,tpgt}
   *   /sys/class/iscsi_connection/connection<S>:0/{persistent_address,persistent_port}
   */
  async sessions(): Promise<IscsiSession[]> {
    const out: IscsiSession[] = [];
    const read = async (path: string): Promise<string | undefined> => (await this.fs.readFile(path).catch(() => undefined))?.trim() || undefined;
    for (const name of await this.fs.readdir('/sys/class/iscsi_session')) {
      const m = /^session(\d+)$/.exec(name);
      if (!m) continue;
      const sid = Number(m[1]);
      const iqn = await read(`/sys/class/iscsi_session/${name}/targetname`);
      const conn = `/sys/class/iscsi_connection/connection${sid}:0`;
      const address = (await read(`${conn}/persistent_address`)) ?? (await read(`${conn}/address`));
      const port = (await read(`${conn}/persistent_port`)) ?? (await read(`${conn}/port`));
      if (!iqn || !address || !port) continue;
      const tpgt = Number(await read(`/sys/class/iscsi_session/${name}/tpgt`));
      out.push({ transport: 'tcp', sid, portal: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`, tpgt: Number.isInteger(tpgt) ? tpgt : 1, iqn });
    }
    return out.sort((a, b) => a.sid - b.sid);
  }

  /** The session's iface name (which tool made it), when the kernel reports one. */
  async ifaceOf(sid: number): Promise<string | undefined> {
    return (await this.fs.readFile(`/sys/class/iscsi_session/session${sid}/ifacename`).catch(() => undefined))?.trim() || undefined;
  }

  private sessionDir(host: number, sid: number): string {
    return `/sys/class/iscsi_host/host${host}/device/session${sid}`;
  }
}
