import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FLAGS } from '../../src/cli/args.js';
import { packageInfo } from '../../src/util/package-info.js';
import { csiClients, rpc } from '../helpers/csi-client.js';
import { spawnDriver, waitUntil } from '../helpers/spawn-driver.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cmc-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the CLI', () => {
  it('prints --help and --version and exits 0', async () => {
    const help = spawnDriver(['--help']);
    expect(await help.exited).toBe(0);
    const text = help.stdout.join('');
    for (const flag of [...Object.keys(FLAGS), 'help', 'version']) expect(text).toContain(`--${flag}`);
    const version = spawnDriver(['--version']);
    expect(await version.exited).toBe(0);
    expect(version.stdout.join('').trim()).toBe(packageInfo().version);
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--mode', 'sideways'], /--mode must be controller, node or all/],
    [['--mode', 'node'], /--node-name/],
    [['--mode', 'controller'], /--cloud-config/],
    [['--mode', 'node', '--node-name', 'n', '--log-level', 'loud'], /--log-level/],
  ])('exits 2 with one clear line for %j', async (args, re) => {
    const d = spawnDriver(args, { NODE_NAME: '', CLOUD_CONFIG: '', CSI_MODE: '' });
    expect(await d.exited).toBe(2);
    const err = d.stderr.join('');
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(re);
  });

  it('exits 1 naming the file when the cloud config is bad', async () => {
    const d = spawnDriver(['--mode', 'controller', '--cloud-config', join(dir, 'missing.conf'), '--endpoint', `unix://${join(dir, 'x.sock')}`]);
    expect(await d.exited).toBe(1);
    expect(d.stderr.join('')).toContain('missing.conf');
  });

  it('answers Probe in node mode soon after spawn, and exits 0 on SIGTERM removing its socket', async () => {
    const sock = join(dir, 'csi.sock');
    const started = performance.now();
    const d = spawnDriver(
      ['--mode', 'node', '--endpoint', `unix://${sock}`, '--state-dir', join(dir, 'state'), '--kubelet-dir', dir, '--node-ip', '127.0.0.1'],
      { NODE_NAME: 'worker-1' },
    );
    await waitUntil(() => existsSync(sock), 'the socket', 15_000);
    const clients = csiClients(sock);
    const probe = await rpc(clients.identity, 'Probe', {});
    const elapsed = performance.now() - started;
    expect(probe.ready.value).toBe(true);
    console.log(`spawn → first Probe answered: ${elapsed.toFixed(0)} ms`);
    clients.close();
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });
});
