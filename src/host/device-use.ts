import type { HostFs } from './host-fs.js';

/**
 * What mountinfo says is mounted, by device: a file system on a device shows the device's
 * major:minor; a raw block volume published to a pod is a bind mount of the device node, which
 * shows as devtmpfs with root "/sdb", "/dm-3" or "/rbd0".
 */
export interface MountedDevices {
  numbers: Set<string>;
  nodes: Set<string>;
}

export function mountedDevices(mountinfo: string): MountedDevices {
  const numbers = new Set<string>();
  const nodes = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    if (f[2]) numbers.add(f[2]);
    const dash = f.indexOf('-');
    if (dash > 0 && f[dash + 1] === 'devtmpfs' && f[3] && f[3] !== '/') nodes.add(f[3].replace(/^\//, ''));
  }
  return { numbers, nodes };
}

/** Whether the block device /sys/block/<name> is mounted (its file system, or its node bind-mounted). */
export async function isDeviceMounted(fs: HostFs, name: string, mounted: MountedDevices): Promise<boolean> {
  if (mounted.nodes.has(name)) return true;
  const dev = await devNumberOf(fs, name);
  return dev !== undefined && mounted.numbers.has(dev);
}

/** major:minor of /sys/block/<name>, undefined when the device is gone. */
export async function devNumberOf(fs: HostFs, name: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(`/sys/block/${name}/dev`)).trim();
  } catch {
    return undefined;
  }
}
