import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/util/package-info.js';
import { isRoot } from './harness.js';

/**
 * sanity/run.mjs: the wrapper around the upstream csi-sanity binary. There is no csi-sanity
 * here (no Go toolchain), so the real run cannot happen in this suite; what is checked:
 * - without a binary it explains how to install one, says "skipped" and exits 0;
 * - with a stand-in binary it starts the emulator and the driver, hands csi-sanity a live
 *   socket, staging/mount dirs under the kubelet dir and the sanity/ parameter and secret files,
 *   once per access type, prints the summary, propagates failure, and cleans up its temp dir.
 */
const SCRIPT = join(PACKAGE_ROOT, 'sanity', 'run.mjs');
// The node running the tests (not necessarily /usr/bin/node), then the system's programs: the
// stand-in binaries below are shell scripts that use tr and sed.
const SCRIPT_PATH = [dirname(process.execPath), '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(delimiter);

function runScript(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT], { env: { PATH: SCRIPT_PATH, HOME: tmpdir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('sanity/run.mjs', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cmc-sanity-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('without a csi-sanity binary (and building it turned off) prints how to install it, says skipped and exits 0', async () => {
    const r = await runScript({ CSI_SANITY_BUILD: '0' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('skipped');
    expect(r.out).toContain('go install github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@latest');
  });

  it('a CSI_SANITY_BIN that is not executable is reported, and the run is skipped', async () => {
    const r = await runScript({ CSI_SANITY_BIN: join(dir, 'missing-csi-sanity') });
    expect(r.code).toBe(0);
    expect(r.out).toContain('is not an executable file');
    expect(r.out).toContain('skipped');
  });

  it.skipIf(!isRoot)('with a stand-in binary: live socket, dirs under the kubelet dir, both access types, summary, exit code', async () => {
    const record = join(dir, 'calls.log');
    const fake = join(dir, 'csi-sanity');
    // The stand-in checks what the real csi-sanity needs, records its argv, and fails the block run.
    await writeFile(
      fake,
      `#!/bin/sh
for a in "$@"; do echo "$a" >> ${record}; done
echo "--" >> ${record}
sock=$(echo "$@" | tr ' ' '\\n' | sed -n 's|^--csi.endpoint=unix://||p')
[ -S "$sock" ] || { echo "no socket at $sock"; exit 3; }
case "$*" in *testvolumeaccesstype=block*) echo "Ran 5 of 90 Specs in 1.0 seconds"; echo "FAIL! -- 4 Passed | 1 Failed | 0 Pending | 85 Skipped"; exit 1;; esac
echo "Ran 80 of 90 Specs in 2.0 seconds"
echo "SUCCESS! -- 80 Passed | 0 Failed | 0 Pending | 10 Skipped"
`,
    );
    await chmod(fake, 0o755);
    const r = await runScript({ CSI_SANITY_BIN: fake });
    expect(r.out).toMatch(/mount\s+PASS\s+Ran 80 of 90 Specs.*80 Passed \| 0 Failed/);
    expect(r.out).toMatch(/block\s+FAIL \(exit 1\)\s+Ran 5 of 90 Specs/);
    expect(r.code).toBe(1);
    const calls = (await readFile(record, 'utf8')).split('--\n').filter((c) => c.trim());
    expect(calls).toHaveLength(2);
    for (const [i, type] of ['mount', 'block'].entries()) {
      const args = calls[i]!.trim().split('\n');
      const flag = (name: string) => args.find((a) => a.startsWith(`--csi.${name}=`))?.split('=')[1] ?? '';
      expect(flag('testvolumeaccesstype')).toBe(type);
      const kubelet = flag('stagingdir').split('/sanity/')[0]!;
      expect(kubelet).toMatch(/\/kubelet$/);
      expect(flag('mountdir').startsWith(`${kubelet}/`)).toBe(true);
      expect(flag('testvolumeparameters')).toBe(join(PACKAGE_ROOT, 'sanity', 'parameters.yaml'));
      expect(flag('testvolumemutableparameters')).toBe(join(PACKAGE_ROOT, 'sanity', 'mutable-parameters.yaml'));
      expect(flag('secrets')).toBe(join(PACKAGE_ROOT, 'sanity', 'secrets.yaml'));
      // The script's temp dir (driver socket, emulator state) is gone afterwards.
      expect(existsSync(dirname(kubelet))).toBe(false);
    }
  });
});
