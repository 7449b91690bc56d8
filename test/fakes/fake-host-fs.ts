import { dirname, posix } from 'node:path';
import type { HostFs, PathKind } from '../../src/host/host-fs.js';

type Node = { kind: 'file'; data: string } | { kind: 'block' } | { kind: 'dir' } | { kind: 'link'; target: string };

export type WriteHook = (path: string, data: string, fs: FakeHostFs) => void | Promise<void>;

/**
 * An in-memory host for connector tests: sysfs attributes, /dev nodes and udev symlinks.
 * Writes are journaled (shared with ScriptedExec to check the order of host actions) and may
 * trigger hooks that change the host, like the kernel would (a scan makes a disk appear after a
 * while, a delete removes it).
 */
export class FakeHostFs implements HostFs {
  private readonly nodes = new Map<string, Node>();
  private readonly hooks: { match: (path: string) => boolean; hook: WriteHook }[] = [];
  readonly writes: { path: string; data: string }[] = [];

  constructor(readonly journal: string[] = []) {
    this.nodes.set('/', { kind: 'dir' });
  }

  // ---- building the host -----------------------------------------------------------------------

  file(path: string, data = ''): this {
    this.put(path, { kind: 'file', data });
    return this;
  }

  block(path: string): this {
    this.put(path, { kind: 'block' });
    return this;
  }

  dir(path: string): this {
    this.put(path, { kind: 'dir' });
    return this;
  }

  symlink(path: string, target: string): this {
    this.put(path, { kind: 'link', target });
    return this;
  }

  /** Remove a path and everything under it. */
  remove(path: string): this {
    for (const p of [...this.nodes.keys()]) if (p === path || p.startsWith(`${path}/`)) this.nodes.delete(p);
    return this;
  }

  /** Run `hook` when something is written to a matching path. */
  onWrite(match: string | RegExp | ((p: string) => boolean), hook: WriteHook): this {
    const fn = typeof match === 'string' ? (p: string) => p === match : match instanceof RegExp ? (p: string) => match.test(p) : match;
    this.hooks.push({ match: fn, hook });
    return this;
  }

  /**
   * A SCSI disk as the kernel and udev show it: /dev/sdX, /sys/block/sdX (size, wwid, holders),
   * /sys/class/block/sdX/size, and the by-path link when given.
   */
  scsiDisk(name: string, opts: { sizeBytes?: number; wwid?: string; byPath?: string; holders?: string[] } = {}): this {
    this.block(`/dev/${name}`);
    this.file(`/sys/block/${name}/size`, `${(opts.sizeBytes ?? 1 << 30) / 512}\n`);
    this.file(`/sys/class/block/${name}/size`, `${(opts.sizeBytes ?? 1 << 30) / 512}\n`);
    this.file(`/sys/block/${name}/device/delete`, '');
    this.file(`/sys/block/${name}/device/rescan`, '');
    if (opts.wwid) this.file(`/sys/block/${name}/device/wwid`, `${opts.wwid}\n`);
    this.dir(`/sys/block/${name}/holders`);
    for (const h of opts.holders ?? []) this.dir(`/sys/block/${name}/holders/${h}`);
    if (opts.byPath) this.symlink(opts.byPath, `../../${name}`);
    return this;
  }

  /** Set the size (bytes) a device reports in sysfs. */
  setSize(name: string, bytes: number): this {
    for (const p of [`/sys/block/${name}/size`, `/sys/class/block/${name}/size`]) this.file(p, `${bytes / 512}\n`);
    return this;
  }

  has(path: string): boolean {
    return this.nodes.has(path);
  }

  /** A file's content, synchronously (for fakes built on this one); undefined when absent. */
  peek(path: string): string | undefined {
    const n = this.nodes.get(path);
    return n?.kind === 'file' ? n.data : undefined;
  }

  // ---- HostFs -----------------------------------------------------------------------------------

  async readFile(path: string): Promise<string> {
    const n = this.nodes.get(this.resolve(path) ?? path);
    if (!n || n.kind !== 'file') throw enoent(path);
    return n.data;
  }

  async writeFile(path: string, data: string): Promise<void> {
    const real = this.resolve(path);
    const n = real ? this.nodes.get(real) : undefined;
    if (!real || !n || n.kind !== 'file') throw enoent(path);
    this.writes.push({ path, data });
    this.journal.push(`write ${path} ${data}`);
    n.data = data;
    for (const h of this.hooks) if (h.match(path)) await h.hook(path, data, this);
  }

  async readdir(path: string): Promise<string[]> {
    const real = this.resolve(path);
    if (!real || this.nodes.get(real)?.kind !== 'dir') return [];
    const prefix = real === '/' ? '/' : `${real}/`;
    const names = new Set<string>();
    for (const p of this.nodes.keys()) {
      if (p !== real && p.startsWith(prefix)) {
        const rest = p.slice(prefix.length);
        const first = rest.split('/')[0];
        if (first) names.add(first);
      }
    }
    return [...names].sort();
  }

  async realpath(path: string): Promise<string | undefined> {
    return this.resolve(path);
  }

  async exists(path: string): Promise<boolean> {
    return this.resolve(path) !== undefined;
  }

  async kind(path: string): Promise<PathKind | undefined> {
    const real = this.resolve(path);
    const n = real ? this.nodes.get(real) : undefined;
    if (!n) return undefined;
    return n.kind === 'dir' ? 'directory' : n.kind === 'block' ? 'block' : n.kind === 'file' ? 'file' : 'other';
  }

  // ---- internals --------------------------------------------------------------------------------

  private put(path: string, node: Node): void {
    const p = posix.normalize(path);
    let d = dirname(p);
    while (!this.nodes.has(d)) {
      this.nodes.set(d, { kind: 'dir' });
      d = dirname(d);
    }
    this.nodes.set(p, node);
  }

  /** Resolve symlinks in every component; undefined when something does not exist. */
  private resolve(path: string, depth = 0): string | undefined {
    if (depth > 20) return undefined;
    const parts = posix.normalize(path).split('/').filter(Boolean);
    let cur = '/';
    for (let i = 0; i < parts.length; i++) {
      const next = cur === '/' ? `/${parts[i]}` : `${cur}/${parts[i]}`;
      const n = this.nodes.get(next);
      if (!n) return undefined;
      if (n.kind === 'link') {
        const target = n.target.startsWith('/') ? n.target : posix.join(dirname(next), n.target);
        const rest = parts.slice(i + 1).join('/');
        return this.resolve(rest ? `${target}/${rest}` : target, depth + 1);
      }
      cur = next;
    }
    return cur;
  }
}

function enoent(path: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`ENOENT: no such file or directory, '${path}'`);
  e.code = 'ENOENT';
  return e;
}
