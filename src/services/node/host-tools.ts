import type { ConnectionType } from '../../brick/connection-data.js';
import { FS_TYPES, type FsType } from '../../host/filesystem.js';
import { describeProgram, programsMissing, type ProgramFinder } from '../../host/host-programs.js';

/**
 * Which host programs each thing a node serves needs, so that a missing one is named (with its
 * package) before anything is connected — never an ENOENT from deep inside a stage — and so the
 * node can say at start-up what it can serve.
 */
const COMMON = ['blkid', 'blockdev', 'mount', 'umount'];

const TRANSPORT: Record<ConnectionType, string[]> = {
  iscsi: ['iscsiadm'],
  rbd: ['rbd'],
  local: ['losetup'],
};

const FILESYSTEM: Record<FsType, string[]> = {
  ext4: ['mkfs.ext4', 'e2fsck', 'resize2fs'],
  ext3: ['mkfs.ext3', 'e2fsck', 'resize2fs'],
  xfs: ['mkfs.xfs', 'xfs_growfs'],
  btrfs: ['mkfs.btrfs', 'btrfs'],
};

export interface HostToolsReport {
  transports: ConnectionType[];
  filesystems: FsType[];
  /** Program → what it is missing for ("iscsi", "xfs", "every stage"). */
  missing: Map<string, string[]>;
}

export class HostTools {
  constructor(private readonly locator: ProgramFinder) {}

  /** Throws FAILED_PRECONDITION naming every missing program and its package. */
  async require(what: { transport?: ConnectionType; fsType?: FsType }): Promise<void> {
    const wanted = [...COMMON, ...(what.transport ? TRANSPORT[what.transport] : []), ...(what.fsType ? FILESYSTEM[what.fsType] : [])];
    const missing = await this.locator.missing([...new Set(wanted)]);
    if (missing.length === 0) return;
    const purpose = [what.transport ? `${what.transport} volumes` : '', what.fsType ? `${what.fsType} file systems` : ''].filter(Boolean).join(' with ');
    throw programsMissing(missing, purpose || 'staging a volume');
  }

  async survey(): Promise<HostToolsReport> {
    const all = [...new Set([...COMMON, ...Object.values(TRANSPORT).flat(), ...Object.values(FILESYSTEM).flat()])];
    const absent = new Set(await this.locator.missing(all));
    const missing = new Map<string, string[]>();
    const note = (program: string, forWhat: string): void => {
      if (absent.has(program)) missing.set(program, [...(missing.get(program) ?? []), forWhat]);
    };
    for (const p of COMMON) note(p, 'every stage');
    const transports = (Object.keys(TRANSPORT) as ConnectionType[]).filter((t) => {
      for (const p of TRANSPORT[t]) note(p, t);
      return TRANSPORT[t].every((p) => !absent.has(p));
    });
    const filesystems = FS_TYPES.filter((f) => {
      for (const p of FILESYSTEM[f]) note(p, f);
      return FILESYSTEM[f].every((p) => !absent.has(p));
    });
    return { transports, filesystems, missing };
  }
}

/** One line for the start-up log: what this node serves and what is missing for the rest. */
export function describeHostTools(r: HostToolsReport): string {
  const serves = `serves ${r.transports.join(', ') || 'no transport'} volumes with ${r.filesystems.join(', ') || 'no file system'}`;
  if (r.missing.size === 0) return `${serves}; every host program is installed`;
  const gaps = [...r.missing].map(([program, uses]) => `${describeProgram(program)} for ${uses.join(', ')}`);
  return `${serves}; missing ${gaps.join('; ')}`;
}
