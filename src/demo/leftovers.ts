import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMountInfo } from '../host/mountinfo.js';
import type { Stack } from './stack.js';

/**
 * What a finished lifecycle must not leave behind: mounts under the kubelet root, loop devices
 * backed by the emulator's volume files, Cinder volumes/snapshots/backups/groups/group snapshots/
 * attachments, stash files.
 * Returns one description per leftover (empty = clean).
 */
export async function findLeftovers(stack: Pick<Stack, 'dir' | 'kubeletDir' | 'emulator'>): Promise<string[]> {
  const found: string[] = [];
  const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  for (const m of mounts) {
    if (m.mountPoint === stack.kubeletDir || m.mountPoint.startsWith(`${stack.kubeletDir}/`)) found.push(`mount ${m.mountPoint}`);
  }
  for (const loop of await loopDevicesBackedUnder(stack.dir)) found.push(`loop device ${loop}`);
  const headers = { 'X-Auth-Token': `admin:${stack.emulator.projectId}`, 'OpenStack-API-Version': 'volume 3.70' };
  for (const kind of ['volumes', 'snapshots', 'backups', 'groups', 'group_snapshots', 'attachments'] as const) {
    const res = await fetch(`${stack.emulator.cinderEndpoint}/${kind}`, { headers });
    const body = (await res.json()) as Record<string, unknown[] | undefined>;
    const items = body[kind] ?? [];
    if (items.length > 0) found.push(`${items.length} Cinder ${kind}`);
  }
  for (const stash of await findFiles(stack.kubeletDir, 'cinder-metal-csi.json')) found.push(`stash ${stash}`);
  return found;
}

async function loopDevicesBackedUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const names = await readdir('/sys/block').catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith('loop'))) {
    const backing = await readFile(`/sys/block/${name}/loop/backing_file`, 'utf8').catch(() => '');
    if (backing.trim().startsWith(`${dir}/`)) out.push(`/dev/${name} (${backing.trim()})`);
  }
  return out;
}

async function findFiles(dir: string, name: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name === name).map((e) => join(e.parentPath, e.name));
}
