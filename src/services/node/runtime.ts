import type { Connectors } from '../../brick/connector.js';
import type { Exec } from '../../host/exec.js';
import type { Filesystem } from '../../host/filesystem.js';
import type { Mounter } from '../../host/mounter.js';
import type { Logger } from '../../log/logger.js';
import type { HostTools } from './host-tools.js';
import type { NodeKeyPair } from '../../util/seal.js';

/**
 * The host objects the node service works through, built by the composition root
 * (src/app/node-host.ts) from one Exec: tests hand in scripted ones the same way.
 */
export interface NodeHost {
  exec: Exec;
  mounter: Mounter;
  filesystem: Filesystem;
  /** Names a missing host program before anything is connected. */
  tools: HostTools;
  connectors: Connectors;
  /** Upper bound for a device to appear when connecting. */
  deviceTimeoutMs: number;
}

/** What every node RPC works with; built once by createNodeService. */
export interface NodeRuntime extends NodeHost {
  key: NodeKeyPair;
  /** Every request path must resolve under it. */
  kubeletDir: string;
  /** The node's own state (keys, the index of staged volumes). */
  stateDir: string;
  log: Logger;
}
