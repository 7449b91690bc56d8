import type { Exec } from './exec.js';

/**
 * Loop devices through `losetup` (util-linux): a regular file becomes /dev/loopN. Used by the
 * local connector (emulator `local` backend, tests on real loop devices).
 */
export class Losetup {
  constructor(private readonly exec: Exec) {}

  /** Attach `file` to the first free loop device and return it (e.g. /dev/loop4). */
  async attach(file: string, opts: { readOnly?: boolean; signal?: AbortSignal } = {}): Promise<string> {
    const args = ['--find', '--show', '--direct-io=off'];
    if (opts.readOnly) args.push('--read-only');
    args.push(file);
    const { stdout } = await this.exec.run('losetup', args, { signal: opts.signal });
    const dev = stdout.trim();
    if (!/^\/dev\/loop\d+$/.test(dev)) {
      throw new Error(`losetup attached ${file} but printed ${JSON.stringify(dev)} instead of a loop device`);
    }
    return dev;
  }

  /** Every loop device whose backing file is `file` (usually zero or one). */
  async find(file: string, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
    const { stdout } = await this.exec.run('losetup', ['-j', file, '-O', 'NAME', '-n'], { signal: opts.signal });
    return parseLosetupNames(stdout);
  }

  async detach(device: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.exec.run('losetup', ['-d', device], { signal: opts.signal });
  }

  /** Re-read the backing file's size after it grew (`losetup -c`). */
  async setCapacity(device: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.exec.run('losetup', ['-c', device], { signal: opts.signal });
  }
}

export function parseLosetupNames(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\/dev\/loop\d+$/.test(l));
}
