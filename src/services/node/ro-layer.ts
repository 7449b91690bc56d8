import { readFile, realpath, stat } from 'node:fs/promises';
import type { Exec } from '../../host/exec.js';
import { Losetup } from '../../host/losetup.js';
import { splitDevNumber } from '../../host/mounter.js';

/**
 * Read-only publish of a block volume. A read-only bind mount protects files, not device
 * nodes: the kernel lets anyone open a device node for writing on a read-only mount. So the
 * target gets its own read-only loop device layered over the volume's device (`losetup
 * --read-only <device>`), one per publish, removed again at unpublish. The volume's device
 * itself stays writable for the other publishes and the staging.
 */

interface SysBlock {
  /** /dev/<name> */
  device: string;
  /** The backing file of a loop device; undefined when the device is not a loop device. */
  backingFile?: string;
}

async function sysBlockOf(rdev: number): Promise<SysBlock | undefined> {
  const { major, minor } = splitDevNumber(rdev);
  const dir = `/sys/dev/block/${major}:${minor}`;
  let uevent: string;
  try {
    uevent = await readFile(`${dir}/uevent`, 'utf8');
  } catch {
    return undefined;
  }
  const name = /^DEVNAME=(.+)$/m.exec(uevent)?.[1];
  if (!name) return undefined;
  let backingFile: string | undefined;
  try {
    backingFile = (await readFile(`${dir}/loop/backing_file`, 'utf8')).trim() || undefined;
  } catch {
    backingFile = undefined;
  }
  return { device: `/dev/${name}`, ...(backingFile ? { backingFile } : {}) };
}

/** Whether the device is read-only already (then no layer is needed). */
export async function isReadOnlyDevice(device: string): Promise<boolean> {
  try {
    const s = await stat(device);
    const { major, minor } = splitDevNumber(s.rdev);
    return (await readFile(`/sys/dev/block/${major}:${minor}/ro`, 'utf8')).trim() === '1';
  } catch {
    return false;
  }
}

export async function createReadOnlyLayer(exec: Exec, device: string, signal?: AbortSignal): Promise<string> {
  return new Losetup(exec).attach(device, { readOnly: true, ...(signal ? { signal } : {}) });
}

/**
 * The read-only layer bound at `target`: a read-only loop device whose backing file is a block
 * device (loop devices over regular files are volumes themselves — the `local` backend — and
 * are never taken for layers).
 */
export async function readOnlyLayerAt(target: string): Promise<{ layer: string; over: string } | undefined> {
  let s;
  try {
    s = await stat(target);
  } catch {
    return undefined;
  }
  if (!s.isBlockDevice()) return undefined;
  const info = await sysBlockOf(s.rdev);
  if (!info?.backingFile) return undefined;
  let backing;
  try {
    backing = await stat(info.backingFile);
  } catch {
    return undefined;
  }
  if (!backing.isBlockDevice() || !(await isReadOnlyDevice(info.device))) return undefined;
  return { layer: info.device, over: await realpath(info.backingFile) };
}

export async function removeReadOnlyLayer(exec: Exec, layer: string, signal?: AbortSignal): Promise<void> {
  await new Losetup(exec).detach(layer, signal ? { signal } : {});
}
