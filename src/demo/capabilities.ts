import { readFileSync } from 'node:fs';

/**
 * Growing a MOUNTED ext4 needs CAP_SYS_RESOURCE (the resize ioctl checks it). Some containers
 * run as root without it; there the demo and the e2e tests use xfs, which grows online without.
 */
const CAP_SYS_RESOURCE = 24n;

export function hasSysResourceCapability(status = readFileSync('/proc/self/status', 'utf8')): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (!hex) return false;
  return ((BigInt(`0x${hex}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

/** The filesystem whose online growth works in this process. */
export function onlineGrowableFs(): 'ext4' | 'xfs' {
  return hasSysResourceCapability() ? 'ext4' : 'xfs';
}
