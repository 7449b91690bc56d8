import { basename } from 'node:path';
import { invalidArgument } from '../util/errors.js';
import type { Exec } from './exec.js';
import type { HostFs } from './host-fs.js';

const DEV_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$/;

/** `/dev/sdb` → `sdb`; refuses anything that is not a plain kernel name under /dev. */
export function kernelName(devicePath: string): string {
  const name = basename(devicePath);
  if (!devicePath.startsWith('/dev/') || devicePath.slice(5).includes('/') || !DEV_NAME.test(name)) {
    throw invalidArgument(`${devicePath} is not a kernel block device path (/dev/<name>)`);
  }
  return name;
}

/** Size in bytes from sysfs (`size` is in 512-byte sectors whatever the logical block size). */
export async function deviceSizeBytes(fs: HostFs, devicePath: string): Promise<number> {
  const text = await fs.readFile(`/sys/class/block/${kernelName(devicePath)}/size`);
  const sectors = Number.parseInt(text.trim(), 10);
  if (!Number.isSafeInteger(sectors) || sectors < 0) {
    throw new Error(`unexpected size ${JSON.stringify(text.trim())} for ${devicePath} in sysfs`);
  }
  return sectors * 512;
}

/** Size in bytes as the block layer reports it (`blockdev --getsize64`). */
export async function blockdevSizeBytes(exec: Exec, devicePath: string, signal?: AbortSignal): Promise<number> {
  const { stdout } = await exec.run('blockdev', ['--getsize64', devicePath], { signal });
  const n = Number.parseInt(stdout.trim(), 10);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`blockdev --getsize64 ${devicePath}: unexpected output`);
  return n;
}

/** Write dirty buffers of the device out and drop its buffer cache. */
export async function flushBuffers(exec: Exec, devicePath: string, signal?: AbortSignal): Promise<void> {
  await exec.run('blockdev', ['--flushbufs', devicePath], { signal });
}

/**
 * sysfs wwid → the identifier udev's scsi_id and multipath use (`/dev/disk/by-id/scsi-<id>`,
 * `dm-uuid-mpath-<id>`): NAA → "3…", EUI-64 → "2…", T10 vendor id → "1…" (spaces squeezed to _).
 */
export function scsiIdFromWwid(wwid: string): string | undefined {
  const w = wwid.trim();
  const m = /^(naa|eui|t10)\.(.+)$/i.exec(w);
  if (!m || !m[1] || !m[2]) return undefined;
  const kind = m[1].toLowerCase();
  const body = m[2];
  if (kind === 'naa') return `3${body.toLowerCase()}`;
  if (kind === 'eui') return `2${body.toLowerCase()}`;
  return `1${body.trim().replace(/\s+/g, '_')}`;
}
