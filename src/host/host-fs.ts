import { constants } from 'node:fs';
import { open, readFile, readdir, realpath, stat } from 'node:fs/promises';

export type PathKind = 'block' | 'file' | 'directory' | 'other';

/**
 * The file-system side of the OS seam: sysfs reads and writes (SCSI scan/delete/rescan), /dev
 * links. Connectors use this instead of node:fs so unit tests can run
 * them against an in-memory host (test/fakes/fake-host-fs.ts).
 */
export interface HostFs {
  /** UTF-8 content; throws when missing. */
  readFile(path: string): Promise<string>;
  /**
   * Writes to an existing file, opened write-only (sysfs attributes: `scan`, `device/delete`
   * and `device/rescan` are write-only, and the kernel refuses a read-write open of them even
   * for root). The write's own error (EINVAL for a bad scan string) is thrown.
   */
  writeFile(path: string, data: string): Promise<void>;
  /** Entry names; [] when the directory does not exist. */
  readdir(path: string): Promise<string[]>;
  /** The path with every symlink resolved; undefined when it does not exist. */
  realpath(path: string): Promise<string | undefined>;
  exists(path: string): Promise<boolean>;
  /** What the path is (following symlinks); undefined when it does not exist. */
  kind(path: string): Promise<PathKind | undefined>;
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The real host: node:fs on this machine's /sys and /dev. */
export class NodeHostFs implements HostFs {
  async readFile(path: string): Promise<string> {
    return readFile(path, 'utf8');
  }

  async writeFile(path: string, data: string): Promise<void> {
    // O_WRONLY without O_CREAT: a typo in a sysfs path fails instead of leaving a stray file.
    const handle = await open(path, constants.O_WRONLY);
    try {
      await handle.write(data);
    } finally {
      await handle.close();
    }
  }

  async readdir(path: string): Promise<string[]> {
    try {
      return await readdir(path);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  async realpath(path: string): Promise<string | undefined> {
    try {
      return await realpath(path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async exists(path: string): Promise<boolean> {
    return (await this.kind(path)) !== undefined;
  }

  async kind(path: string): Promise<PathKind | undefined> {
    try {
      const s = await stat(path);
      if (s.isBlockDevice()) return 'block';
      if (s.isFile()) return 'file';
      if (s.isDirectory()) return 'directory';
      return 'other';
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
