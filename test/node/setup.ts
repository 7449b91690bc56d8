import { afterEach, beforeEach, describe, expect } from 'vitest';
import { createHarness, isRoot, type Harness } from './harness.js';

/**
 * The data-path suites need root (loop devices, mkfs, mount). Without it they are skipped,
 * loudly: a green run without them proves nothing about the node.
 */
export const describeRoot = describe.skipIf(!isRoot);

export function warnIfNotRoot(suite: string): void {
  if (!isRoot) {
    console.warn(`\n!!! ${suite}: SKIPPED — needs root for loop devices, mkfs and mount (CI runs as root) !!!\n`);
  }
}

/**
 * A fresh harness per test; afterwards nothing may stay mounted under its kubelet dir or
 * attached from its files — checked first, then cleaned up whatever happened.
 */
export function useHarness(): { get(): Harness } {
  let h: Harness | undefined;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    if (!h) return;
    const left = await h.leftovers();
    await h.cleanup();
    h = undefined;
    expect(left, 'mounts or loop devices left behind').toEqual({ mounts: [], loops: [] });
  });
  return {
    get(): Harness {
      if (!h) throw new Error('harness not ready');
      return h;
    },
  };
}
