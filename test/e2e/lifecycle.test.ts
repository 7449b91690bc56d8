import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLifecycle, type StepReporter } from '../../src/demo/lifecycle.js';
import { findLeftovers } from '../../src/demo/leftovers.js';
import { hasSysResourceCapability } from '../../src/demo/capabilities.js';
import { startStack, type Stack } from '../../src/demo/stack.js';
import { capturingLogger } from '../helpers/log-capture.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('SKIPPED test/e2e: the end-to-end lifecycle needs root (loop devices, mkfs, mount)');

const quiet: StepReporter = { start: () => undefined, end: () => undefined, progress: () => undefined };

describe.skipIf(!root)('end-to-end lifecycle on real loop devices, two node plugins', () => {
  let stack: Stack;
  const cap = capturingLogger('info');
  beforeAll(async () => {
    stack = await startStack({ log: cap.log, delayMs: 20, withNodes: true });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  // Growing a mounted ext4 needs CAP_SYS_RESOURCE; without it (some CI containers) ext4 is left out.
  const fsTypes = hasSysResourceCapability() ? (['ext4', 'xfs'] as const) : (['xfs'] as const);
  if (!hasSysResourceCapability()) console.warn('e2e: no CAP_SYS_RESOURCE here, so the ext4 lifecycle (online grow) is skipped');
  it.each(fsTypes)('walks the whole life of a %s volume and leaves nothing behind', async (fsType) => {
    const [a, b] = stack.nodes;
    expect(a?.nodeId).not.toBe(b?.nodeId);
    const result = await runLifecycle({
      controller: stack.controller.clients.controller,
      nodeA: { name: a!.name, client: a!.clients.node, nodeId: a!.nodeId },
      nodeB: { name: b!.name, client: b!.clients.node, nodeId: b!.nodeId },
      kubeletDir: stack.kubeletDir,
      dataPath: true,
      fsType,
      reporter: quiet,
      rpcTimeoutMs: 10_000,
    });
    expect(result.dataMatched).toEqual({ nodeB: true, restore: true, clone: true });
    // the filesystem grew with the volume (2 GiB device; allow filesystem overhead)
    expect(result.expandedBytes).toBeGreaterThan(1.5 * 1024 ** 3);
    expect(result.volumeIds).toHaveLength(3);
    expect(await findLeftovers(stack)).toEqual([]);
  });
});
