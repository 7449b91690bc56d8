/**
 * /proc/<pid>/mountinfo, see proc(5):
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)         (6)       (7)      (8) (9)  (10)      (11)
 * Paths have space, tab, newline and backslash written as octal escapes (\040 \011 \012 \134).
 */
export interface MountInfo {
  mountId: number;
  parentId: number;
  /** major:minor of st_dev for files on this file system. */
  major: number;
  minor: number;
  /** Root of the mount within the file system (a bind mount of a subdirectory shows it). */
  root: string;
  mountPoint: string;
  /** Per-mount options (ro/rw, nosuid, ...). */
  mountOptions: string[];
  /** shared:N, master:N, propagate_from:N, unbindable. */
  optionalFields: string[];
  fsType: string;
  /** The mount source: a device path for block file systems, or anything (tmpfs, overlay). */
  source: string;
  /** Per-superblock options. */
  superOptions: string[];
}

export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

export function parseMountInfoLine(line: string): MountInfo | undefined {
  const fields = line.trim().split(' ');
  const sep = fields.indexOf('-', 6);
  if (fields.length < 10 || sep < 0 || fields.length < sep + 3) return undefined;
  const [id, parent, majMin, root, mountPoint, mountOptions] = fields;
  const mm = /^(\d+):(\d+)$/.exec(majMin ?? '');
  if (!id || !parent || !mm || root === undefined || mountPoint === undefined || mountOptions === undefined) {
    return undefined;
  }
  const fsType = fields[sep + 1] ?? '';
  const source = fields[sep + 2] ?? '';
  const superOptions = fields[sep + 3] ?? '';
  return {
    mountId: Number(id),
    parentId: Number(parent),
    major: Number(mm[1]),
    minor: Number(mm[2]),
    root: unescapeMountPath(root),
    mountPoint: unescapeMountPath(mountPoint),
    mountOptions: mountOptions.split(','),
    optionalFields: fields.slice(6, sep),
    fsType: unescapeMountPath(fsType),
    source: unescapeMountPath(source),
    superOptions: superOptions ? superOptions.split(',') : [],
  };
}

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const m = parseMountInfoLine(line);
    if (m) out.push(m);
  }
  return out;
}

/** The mount visible at `mountPoint`: the last one listed (mounts stack; the newest is on top). */
export function findMount(mounts: readonly MountInfo[], mountPoint: string): MountInfo | undefined {
  let found: MountInfo | undefined;
  for (const m of mounts) if (m.mountPoint === mountPoint) found = m;
  return found;
}

export function isReadOnlyMount(m: MountInfo): boolean {
  return m.mountOptions.includes('ro') || m.superOptions.includes('ro');
}
