import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/util/package-info.js';

/** How to start the CLI: the built one when present (npm test builds first), else via tsx. */
export function cliCommand(): { cmd: string; args: string[] } {
  const built = join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');
  if (existsSync(built)) return { cmd: process.execPath, args: [built] };
  return { cmd: process.execPath, args: ['--import', 'tsx', join(PACKAGE_ROOT, 'src', 'cli', 'main.ts')] };
}

export interface SpawnedDriver {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

export function spawnDriver(args: string[], env: Record<string, string> = {}): SpawnedDriver {
  const { cmd, args: pre } = cliCommand();
  const child = spawn(cmd, [...pre, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (b: Buffer) => stdout.push(b.toString()));
  child.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}

/** Waits until `check` passes, polling briefly; fails with `what` after timeoutMs. */
export async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
