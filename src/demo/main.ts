import { createLogger } from '../log/logger.js';
import { runLifecycle } from './lifecycle.js';
import { onlineGrowableFs } from './capabilities.js';
import { findLeftovers } from './leftovers.js';
import { terminalReporter } from './reporter.js';
import { startStack, type Stack } from './stack.js';

/**
 * `cinder-metal-csi demo`: the embedded Cinder emulator plus the driver (a controller and two
 * node plugins), walked through a volume's whole life in about a minute. As root it uses real
 * loop devices and filesystems; otherwise it says so and runs the controller half.
 */
export async function runDemo(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const delayArg = argv.indexOf('--delay-ms');
  const delayMs = delayArg >= 0 ? Number(argv[delayArg + 1]) : 300;
  if (!Number.isInteger(delayMs) || delayMs < 0) {
    process.stderr.write('cinder-metal-csi demo: --delay-ms must be a whole number of milliseconds\n');
    return 2;
  }
  const isRoot = process.getuid?.() === 0;
  const log = createLogger({ level: argv.includes('--verbose') ? 'info' : 'warn' });
  out.write('cinder-metal-csi demo: the embedded Cinder emulator and the driver, one volume lifecycle\n');
  const fsType = onlineGrowableFs();
  const missingTools = isRoot ? await missingHostTools(fsType) : undefined;
  const root = isRoot && !missingTools;
  if (!isRoot) {
    out.write('  (not root: loop devices and mounts need root, so only the controller half runs)\n');
  } else if (missingTools) {
    out.write(`  (${missingTools}: only the controller half runs)\n`);
  }
  const reporter = terminalReporter(out);
  const t0 = performance.now();
  let stack: Stack | undefined;
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    out.write('\n  interrupted: tearing down…\n');
    reporter.stop();
    void (stack?.stop() ?? Promise.resolve()).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    stack = await startStack({ log, delayMs, withNodes: root });
    out.write(`  emulator at ${stack.emulator.cinderUrl} (each Cinder transition takes ${delayMs} ms)\n`);
    if (root && fsType !== 'ext4') {
      out.write('  (this process lacks CAP_SYS_RESOURCE, which growing a mounted ext4 needs: using xfs)\n');
    }
    const [nodeA, nodeB] = stack.nodes;
    // Without root no node plugin runs: node ids with throwaway keys still let publish work.
    const controllerNode = stack.controller.clients.node;
    const absent = async (name: string) => ({ name, client: controllerNode, nodeId: await fakeNodeId(name) });
    const result = await runLifecycle({
      controller: stack.controller.clients.controller,
      nodeA: nodeA ? { name: nodeA.name, client: nodeA.clients.node, nodeId: nodeA.nodeId } : await absent('node-a'),
      nodeB: nodeB ? { name: nodeB.name, client: nodeB.clients.node, nodeId: nodeB.nodeId } : await absent('node-b'),
      kubeletDir: stack.kubeletDir,
      dataPath: root,
      fsType,
      reporter,
      rpcTimeoutMs: 5000,
    });
    const matched = result.dataMatched;
    const leftovers = await findLeftovers(stack);
    out.write(`  ${leftovers.length === 0 ? '✔' : '✘'} nothing left behind${leftovers.length ? `: ${leftovers.join('; ')}` : ' (no mount, loop device, Cinder object or stash)'}\n`);
    const ok = leftovers.length === 0 && (!matched || (matched.nodeB && matched.restore && matched.clone));
    out.write(`${ok ? 'demo passed' : 'demo FAILED'}: ${result.steps.length} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    return ok ? 0 : 1;
  } catch (err) {
    reporter.stop();
    if (interrupted) return 130;
    out.write(`\ndemo FAILED: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await stack?.stop();
  }
}

/** Why the node half cannot run here, or undefined when every host program it needs is installed. */
async function missingHostTools(fsType: 'ext4' | 'xfs'): Promise<string | undefined> {
  const { ProgramLocator } = await import('../host/host-programs.js');
  const { HostTools } = await import('../services/node/host-tools.js');
  try {
    await new HostTools(new ProgramLocator()).require({ transport: 'local', fsType });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

async function fakeNodeId(name: string): Promise<string> {
  const { generateNodeKeyPair } = await import('../util/seal.js');
  const { formatNodeId } = await import('../services/node-id.js');
  return formatNodeId({ nodeName: name, ip: '127.0.0.1', publicKey: generateNodeKeyPair().publicKey });
}
