import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { csiClients, rpc, type CsiClients } from '../../src/demo/csi-client.js';
import { startEmulator, type EmulatorOptions, type EmulatorStats, type RunningEmulator } from '../../src/emulator/index.js';
import { spawnDriver, type SpawnedDriver } from '../helpers/spawn-driver.js';

/** Shared helpers of the benchmarks (not a test file: vitest never picks it up). */

export const GiB = 1024 ** 3;
const ABORTED = 10;

/** Epoch ms at sub-ms precision: the emulator stamps its transitions with the same clock. */
export const epochMs = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (p99 of fewer than 100 samples is the maximum). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, mean };
}

/**
 * Every HTTP request the in-process emulator receives, with its full URL (the emulator's stats
 * key routes by template and drops the query, which hides whether a `GET /volumes/detail` was a
 * name lookup or a waiter's page walk). Recorded by wrapping http.Server#emit for 'request'.
 */
export interface RecordedRequest {
  at: number;
  method: string;
  url: string;
  /** Response body bytes (Content-Length), filled in when the response is sent. */
  bytes: number;
}
export const requestLog: RecordedRequest[] = [];
let recording = false;
export function installRequestRecorder(): void {
  if (recording) return;
  recording = true;
  const orig = Server.prototype.emit;
  Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'request') {
      const req = args[0] as IncomingMessage;
      const res = args[1] as ServerResponse;
      if (!req.url?.startsWith('/_emulator')) {
        const rec: RecordedRequest = { at: epochMs(), method: req.method ?? '?', url: req.url ?? '', bytes: 0 };
        requestLog.push(rec);
        // Count what is written: the emulator passes its headers to writeHead, which getHeader does not see.
        const write = res.write.bind(res) as (...a: unknown[]) => boolean;
        const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
        const count = (chunk: unknown): void => {
          if (typeof chunk === 'string' || chunk instanceof Uint8Array) rec.bytes += Buffer.byteLength(chunk);
        };
        res.write = ((...a: unknown[]) => (count(a[0]), write(...a))) as typeof res.write;
        res.end = ((...a: unknown[]) => (typeof a[0] !== 'function' && count(a[0]), end(...a))) as typeof res.end;
      }
    }
    return (orig as (this: Server, e: string | symbol, ...a: unknown[]) => boolean).call(this, event, ...args);
  } as typeof Server.prototype.emit;
}

export async function startBenchEmulator(delayMs: number, stateDir: string, maxMicroversion?: string, seedVolumes?: EmulatorOptions['seedVolumes']): Promise<RunningEmulator> {
  return startEmulator({
    delayMs,
    stateDir,
    ...(maxMicroversion ? { maxMicroversion } : {}),
    ...(seedVolumes ? { seedVolumes } : {}),
    // Unlimited: the emulator then never counts usage (B9's 10,000 volumes would slow its creates).
    quotas: { volumes: -1, snapshots: -1, gigabytes: -1, per_volume_gigabytes: -1 },
  });
}

export interface Driver {
  proc: SpawnedDriver;
  pid: number;
  clients: CsiClients;
  socket: string;
  stop(): Promise<void>;
}

/**
 * Spawns the built driver (dist/cli/main.js) and waits until Probe answers. The client is made
 * only once the socket file exists: a grpc-js channel that fails to connect first backs off for
 * about a second, which would be measured as start-up time.
 */
export async function spawnBenchDriver(args: string[], socket: string, timeoutMs = 20_000): Promise<Driver & { readyMs: number }> {
  const t0 = performance.now();
  const proc = spawnDriver(['--endpoint', `unix://${socket}`, ...args]);
  let exited = false;
  void proc.exited.then(() => (exited = true));
  const end = t0 + timeoutMs;
  let clients: CsiClients | undefined;
  let readyAt = 0;
  while (readyAt === 0) {
    if (exited) throw new Error(`driver exited before Probe: ${proc.stderr.join('').slice(-2000)}`);
    if (performance.now() > end) throw new Error(`Probe not answered within ${timeoutMs} ms: ${proc.stderr.join('').slice(-2000)}`);
    if (!existsSync(socket)) {
      await sleep(2);
      continue;
    }
    clients ??= csiClients(socket);
    try {
      const r = await rpc<{ ready?: { value: boolean } }>(clients.identity, 'Probe', {}, 2000);
      if (r.ready?.value !== false) readyAt = performance.now();
    } catch {
      clients.close();
      clients = undefined;
      await sleep(5);
    }
  }
  const c = clients as CsiClients;
  return {
    proc,
    pid: proc.child.pid as number,
    clients: c,
    socket,
    readyMs: readyAt - t0,
    stop: async () => {
      c.close();
      proc.child.kill('SIGTERM');
      const done = await Promise.race([proc.exited.then(() => true), sleep(8000).then(() => false)]);
      if (!done) proc.child.kill('SIGKILL');
    },
  };
}

export async function writeCloudConf(dir: string, emu: RunningEmulator): Promise<string> {
  const f = join(dir, `cloud-${Math.random().toString(36).slice(2)}.conf`);
  await writeFile(f, `[BlockStorage]\nauth-strategy = noauth\ncinder-endpoint = ${emu.cinderEndpoint}\ncluster-id = bench\n`, { mode: 0o600 });
  return f;
}

/** A call that retries ABORTED (as the sidecars do) and counts the retries. */
export async function call<T = Record<string, unknown>>(
  client: Client,
  method: string,
  req: unknown,
  timeoutMs = 120_000,
): Promise<{ res: T; retries: number; end: number }> {
  for (let retries = 0; ; retries++) {
    try {
      const res = await rpc<T>(client, method, req, timeoutMs);
      return { res, retries, end: epochMs() };
    } catch (err) {
      if ((err as ServiceError).code !== ABORTED || retries >= 100) throw err;
      await sleep(100);
    }
  }
}

const CLK_TCK = 100;
/** utime+stime of a process in CPU seconds (/proc/<pid>/stat fields 14 and 15). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** VmRSS and VmHWM in MiB. */
export function memMiB(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Runs a command, resolves with its wall time in ms (rejects on non-zero exit). */
export function timeCommand(cmd: string, args: string[], opts: { cwd?: string; okCodes?: number[] } = {}): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 || (opts.okCodes ?? []).includes(code ?? -1)) resolve(performance.now() - t0);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
    });
  });
}

/** Runs `fn` for `n` samples with `workers` workers, each starting after a random offset. */
export async function pool<T>(n: number, workers: number, staggerMs: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, n) }, async () => {
      await sleep(Math.random() * staggerMs);
      while (next < n) {
        const i = next++;
        out.push(await fn(i));
        await sleep(Math.random() * 100);
      }
    }),
  );
  return out;
}

/** The emulator time of the first transition of `id` to `to` at or after `after`. */
export function transitionAt(stats: EmulatorStats, id: string, to: string, after = 0): number | undefined {
  return stats.transitions[id]?.find((t) => t.to === to && t.at >= after)?.at;
}

export const capability = (fsType = 'ext4') => ({ mount: { fs_type: fsType, mount_flags: [] }, access_mode: { mode: 'SINGLE_NODE_WRITER' } });
