import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEmulatorCli } from './cli.js';
import { call } from '../../test/helpers/emulator-http.js';
import { cliCommand } from '../../test/helpers/spawn-driver.js';

function capture(): { io: { write(s: string): boolean }; text: () => string } {
  let buf = '';
  return {
    io: {
      write(s: string) {
        buf += s;
        return true;
      },
    },
    text: () => buf,
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emu-cli-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('runEmulatorCli flag errors', () => {
  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--port', 'abc'], '--port must be a non-negative integer, got "abc"'],
    [['--port', '70000'], '--port must be at most 65535'],
    [['--delay-ms', '-5'], '--delay-ms'],
    [['--faults', '/nonexistent/faults.json'], '--faults: cannot read /nonexistent/faults.json: ENOENT'],
    [['--quota', 'volumes=x'], '--quota must be KEY=N'],
    [['--max-microversion', '4.0'], '--max-microversion must look like 3.N'],
    [['positional'], 'positional'],
  ])('%j → exit 2 with one line on stderr', async (argv, message) => {
    const out = capture();
    const err = capture();
    const code = await runEmulatorCli(argv, { stdout: out.io, stderr: err.io });
    expect(code).toBe(2);
    expect(out.text()).toBe('');
    const lines = err.text().split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
  });

  it('rejects a faults file that is not JSON or not a valid configuration', async () => {
    const notJson = join(dir, 'bad.json');
    await writeFile(notJson, '{nope');
    const err1 = capture();
    expect(await runEmulatorCli(['--faults', notJson], { stdout: capture().io, stderr: err1.io })).toBe(2);
    expect(err1.text()).toContain('is not JSON');
    const invalid = join(dir, 'invalid.json');
    await writeFile(invalid, JSON.stringify({ failNext: 'many' }));
    const err2 = capture();
    expect(await runEmulatorCli(['--faults', invalid], { stdout: capture().io, stderr: err2.io })).toBe(2);
    expect(err2.text()).toContain('failNext must be a non-negative integer');
  });

  it('--help prints the usage and exits 0', async () => {
    const out = capture();
    expect(await runEmulatorCli(['--help'], { stdout: out.io, stderr: capture().io })).toBe(0);
    expect(out.text()).toContain('--keystone-port');
  });
});

describe('runEmulatorCli serving', () => {
  it('serves with the given flags until stopped, printing one line with the URLs', async () => {
    const faults = join(dir, 'faults.json');
    await writeFile(faults, JSON.stringify({ routes: { 'GET /types': { failNext: 1 } } }));
    const stateDir = join(dir, 'state');
    const out = capture();
    const ac = new AbortController();
    const done = runEmulatorCli(
      ['--port', '0', '--keystone-port', '0', '--delay-ms', '5', '--faults', faults, '--state-dir', stateDir, '--zones', 'z1,z2'],
      { stdout: out.io, stderr: capture().io, signal: ac.signal },
    );
    const deadline = Date.now() + 5000;
    while (!out.text().includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const line = out.text().trim();
    expect(line.split('\n')).toHaveLength(1);
    const fields = Object.fromEntries(line.split(' ').filter((p) => p.includes('=')).map((p) => p.split('=', 2) as [string, string]));
    expect(fields.cinder).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fields.endpoint).toBe(`${fields.cinder}/v3/0123456789abcdef0123456789abcdef`);
    expect(fields.keystone).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v3$/);
    expect(fields['state-dir']).toBe(stateDir);
    // Keystone mode: no token → 401; the faults file is in force; zones are taken.
    expect((await call('GET', `${fields.endpoint}/volumes`)).status).toBe(401);
    expect((await call('GET', `${fields.cinder}/_emulator/faults`)).body).toEqual({ routes: { 'GET /types': { failNext: 1 } } });
    expect((await stat(stateDir)).isDirectory()).toBe(true);
    ac.abort();
    expect(await done).toBe(0);
    await expect(fetch(`${fields.cinder}/`)).rejects.toThrow();
  });

  it('reports a port in use as exit 1', async () => {
    const out = capture();
    const ac = new AbortController();
    const first = runEmulatorCli(['--port', '0'], { stdout: out.io, stderr: capture().io, signal: ac.signal });
    while (!out.text().includes('\n')) await new Promise((r) => setTimeout(r, 10));
    const port = /cinder=http:\/\/127\.0\.0\.1:(\d+)/.exec(out.text())?.[1] ?? '';
    const err = capture();
    expect(await runEmulatorCli(['--port', port], { stdout: capture().io, stderr: err.io })).toBe(1);
    expect(err.text()).toContain('EADDRINUSE');
    ac.abort();
    expect(await first).toBe(0);
  });

  it('runs as a process (`cinder-metal-csi emulator`) and exits 0 on SIGTERM', async () => {
    const { cmd, args } = cliCommand();
    const child = spawn(cmd, [...args, 'emulator', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (!stdout.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const url = /cinder=(\S+)/.exec(stdout)?.[1];
    expect(url, stderr).toBeDefined();
    expect((await call('GET', `${url}/`)).status).toBe(300);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
