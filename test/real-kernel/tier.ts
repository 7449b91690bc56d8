import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadRealCinderEnv, type RealCinderEnv } from '../real-tier/env.js';
import { TIER_DIR } from './guest.js';

/**
 * The real-kernel tier's switch. It runs when REAL_KERNEL=1 and a real Cinder is up
 * (REAL_CINDER_ENV, noauth, the file backend exported by tgtd) — `.ci/run` does both in its
 * noauth pass. Otherwise it says in one line why it was skipped and how to run it. In CI
 * (CI=true) a tier that was asked for but cannot boot its guest is a failure, not a skip.
 */
export interface KernelTier {
  cinder: RealCinderEnv;
  /** Where build-guest.sh put the kernel and initramfs. */
  guestCache: string;
}

export const ENABLE_HINT =
  'run it with: sudo CEPH=1 test/real-cinder/install.sh && sudo test/real-kernel/install.sh && CEPH=1 REAL_KERNEL=1 test/real-cinder/ci-tier.sh noauth -- npx vitest run test/real-kernel';

export type TierState = { tier: KernelTier } | { skipped: string } | { broken: string };

export function kernelTierState(env: NodeJS.ProcessEnv = process.env): TierState {
  if (env.REAL_KERNEL !== '1') return { skipped: 'REAL_KERNEL is not 1' };
  const loaded = loadRealCinderEnv(env);
  if (!('env' in loaded)) return { skipped: loaded.skipped };
  if (loaded.env.mode !== 'noauth') return { skipped: 'the real Cinder runs with Keystone; the tier runs in the noauth pass' };
  if (!loaded.env.opt('ISCSI_PORTAL')) return { broken: `${loaded.env.file} has no ISCSI_PORTAL: the real Cinder runs without tgtd` };
  if (process.getuid?.() !== 0) return { broken: 'the real-kernel tier needs root (tgtd, QEMU, 9p)' };
  for (const tool of ['qemu-system-x86_64', 'socat', 'nft']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return { broken: `${tool} is not installed (test/real-kernel/install.sh installs it)` };
    }
  }
  let cache: string;
  try {
    const out = execFileSync(join(TIER_DIR, 'build-guest.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    cache = out.trim().split('\n').at(-1) ?? '';
  } catch (err) {
    return { broken: `the guest could not be built: ${(err as { stderr?: string }).stderr?.trim().split('\n').at(-1) ?? String(err)}` };
  }
  if (!existsSync(join(cache, 'initrd.img'))) return { broken: `build-guest.sh printed ${cache}, which holds no guest` };
  return { tier: { cinder: loaded.env, guestCache: cache } };
}

let noted = false;
/** The tier, or undefined after one console line saying why not. Throws in CI when it was asked for but is broken. */
export function kernelTierOrNote(): KernelTier | undefined {
  const s = kernelTierState();
  if ('tier' in s) return s.tier;
  const reason = 'skipped' in s ? s.skipped : s.broken;
  if ('broken' in s && process.env.CI === 'true') throw new Error(`real-kernel tier: ${reason}`);
  if (!noted) {
    noted = true;
    console.log(`real-kernel tier skipped: ${reason}; ${ENABLE_HINT}`);
  }
  return undefined;
}
