import { lstat, stat } from 'node:fs/promises';
import type { MountInfo } from '../../host/mountinfo.js';
import type { Mounter } from '../../host/mounter.js';

/**
 * Host checks shared by the node RPCs, answering "is this the device / mount we think it is"
 * without trusting names alone.
 */

/** What is at `path` (not following a final symlink), or undefined when nothing is. */
export async function pathKind(path: string): Promise<'file' | 'directory' | 'other' | undefined> {
  try {
    const s = await lstat(path);
    return s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** The rdev of a block device node (following links), or undefined when it is not one. */
export async function blockRdev(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isBlockDevice() ? s.rdev : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `target` is (a bind mount of) the block device `device`: same device number. */
export async function isSameBlockDevice(target: string, device: string): Promise<boolean> {
  const [a, b] = await Promise.all([blockRdev(target), blockRdev(device)]);
  return a !== undefined && a === b;
}

/** The mount of `device` at `mountPoint` (already resolved), if any. */
export async function mountOfDeviceAt(mounter: Mounter, device: string, mountPoint: string): Promise<MountInfo | undefined> {
  return (await mounter.mountsOfDevice(device)).find((m) => m.mountPoint === mountPoint);
}

/** Two mounts show the same file system (a bind mount of the other): same st_dev and root. */
export function sameFilesystem(a: MountInfo, b: MountInfo): boolean {
  return a.major === b.major && a.minor === b.minor && a.root === b.root;
}
