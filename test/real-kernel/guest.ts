import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The host side of the real-kernel tier: boots the QEMU guest (run-guest.sh) with a share and a
 * persistent disk, and talks to the agent inside it. A "reboot" is shutdown() then boot() again
 * with the same share and disk: the kernel, its sessions and devices are new; /var/lib/kubelet,
 * the plugin's state dir and /etc/iscsi are what they were.
 */
export const TIER_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(TIER_DIR, '..', '..');

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface GuestOptions {
  /** Read-write share (the guest's /vmrun): env, logs, the connector registry. */
  share: string;
  /** Raw image for the guest's persistent state (made by makeDisk). */
  disk: string;
  /** Host loopback ports the guest must reach at 127.0.0.1 (tgtd portals, Ceph daemons). */
  fwdPorts: number[];
  /** Guest ports the host reaches at 127.0.0.1:<host port>. */
  hostPorts: { agent: number; csi: number };
  /** The initiator name a fresh guest gets. */
  iqn: string;
  multipathd?: boolean;
  bootTimeoutMs?: number;
}

export const GUEST_AGENT_PORT = 7000;
export const GUEST_CSI_PORT = 7001;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A sparse raw disk with an empty ext4 on it (mkfs works on a regular file; no loop device needed). */
export async function makeDisk(path: string, sizeMiB = 2048): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, '');
  await run('truncate', ['-s', `${sizeMiB}M`, path]);
  await run('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=1,lazy_journal_init=1', path]);
}

export class Guest {
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  boots = 0;

  private constructor(
    readonly o: GuestOptions,
    private proc: ChildProcess,
  ) {
    this.exited = this.watch();
  }

  static async boot(o: GuestOptions): Promise<Guest> {
    const guest = new Guest(o, Guest.launch(o));
    await guest.waitReady();
    guest.boots = 1;
    return guest;
  }

  /** Power off cleanly (file systems synced) and boot the same node again. */
  async reboot(): Promise<void> {
    await this.shutdown();
    this.proc = Guest.launch(this.o);
    this.exitCode = undefined;
    this.exited = this.watch();
    await this.waitReady();
    this.boots++;
  }

  async exec(argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    return (await this.post('/exec', { argv, timeoutMs: opts.timeoutMs ?? 120_000, input: opts.input })) as ExecResult;
  }

  /** bash -c, failing unless it exits 0. */
  async sh(script: string, timeoutMs = 120_000): Promise<string> {
    const r = await this.exec(['bash', '-c', script], { timeoutMs });
    if (r.code !== 0) throw new Error(`guest: ${script.slice(0, 200)} exited ${r.code}: ${r.stderr.slice(-2000)}${r.stdout.slice(-500)}`);
    return r.stdout;
  }

  async start(name: string, argv: string[], env: Record<string, string> = {}): Promise<void> {
    await this.post('/start', { name, argv, env });
  }

  async stop(name: string, signal = 'SIGTERM'): Promise<{ code: number | null; signal: string | null }> {
    return (await this.post('/stop', { name, signal })) as { code: number | null; signal: string | null };
  }

  /** The agent stops its processes and exits; the guest syncs, unmounts and powers off. */
  async shutdown(): Promise<void> {
    if (this.exitCode !== undefined) return;
    await this.post('/shutdown', {}).catch(() => undefined);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 120_000);
    await this.exited;
    clearTimeout(timer);
  }

  console(): string {
    const f = join(this.o.share, 'console.log');
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  log(name: string): string {
    const f = join(this.o.share, 'logs', `${name}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  private static launch(o: GuestOptions): ChildProcess {
    const env = [
      `NODE_BIN=${process.execPath}`,
      `AGENT=${join(TIER_DIR, 'guest', 'agent.mjs')}`,
      `FWD_PORTS=${o.fwdPorts.join(' ')}`,
      `GUEST_IQN=${o.iqn}`,
      `MULTIPATHD=${o.multipathd === false ? 'off' : 'on'}`,
    ];
    // Values are simple (paths, numbers, IQNs): quoted for the guest's `. /vmrun/env`.
    const text = `${env.map((l) => `${l.split('=')[0]}='${l.slice(l.indexOf('=') + 1)}'`).join('\n')}\n`;
    const share = o.share;
    const args = [
      '--share', share,
      '--run', join(TIER_DIR, 'guest', 'boot.sh'),
      '--disk', o.disk,
      '--hostfwd', `${o.hostPorts.agent}=${GUEST_AGENT_PORT}`,
      '--hostfwd', `${o.hostPorts.csi}=${GUEST_CSI_PORT}`,
      ...o.fwdPorts.flatMap((p) => ['--fwd', String(p)]),
    ];
    // Written synchronously before QEMU starts: the guest reads it at boot.
    return spawnWithEnvFile(join(share, 'env'), text, join(TIER_DIR, 'run-guest.sh'), args);
  }

  private watch(): Promise<number | null> {
    return new Promise((resolve) => {
      this.proc.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
  }

  private async waitReady(): Promise<void> {
    const until = Date.now() + (this.o.bootTimeoutMs ?? 240_000);
    for (;;) {
      if (this.exitCode !== undefined) throw new Error(`the guest exited (${this.exitCode}) before its agent answered:\n${this.console().slice(-3000)}`);
      try {
        await this.post('/health', {}, 2_000);
        return;
      } catch {
        if (Date.now() > until) {
          this.proc.kill('SIGKILL');
          throw new Error(`the guest's agent did not answer within the boot timeout:\n${this.console().slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async post(path: string, body: unknown, timeoutMs = 600_000): Promise<unknown> {
    const res = await fetch(`http://127.0.0.1:${this.o.hostPorts.agent}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const value: unknown = await res.json();
    if (res.status !== 200) throw new Error(`guest agent ${path}: ${JSON.stringify(value)}`);
    return value;
  }
}

function spawnWithEnvFile(envFile: string, text: string, cmd: string, args: string[]): ChildProcess {
  mkdirSync(dirname(envFile), { recursive: true });
  mkdirSync(join(dirname(envFile), 'logs'), { recursive: true });
  writeFileSync(envFile, text);
  return spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}
