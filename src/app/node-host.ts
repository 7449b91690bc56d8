import { join } from 'node:path';
import type { Connectors } from '../brick/connector.js';
import { createConnectors } from '../brick/connectors.js';
import type { Exec } from '../host/exec.js';
import { Filesystem } from '../host/filesystem.js';
import { NodeHostFs } from '../host/host-fs.js';
import { ProgramLocator, type ProgramFinder } from '../host/host-programs.js';
import { Mounter } from '../host/mounter.js';
import type { Logger } from '../log/logger.js';
import { HostTools } from '../services/node/host-tools.js';
import type { NodeHost } from '../services/node/runtime.js';

export interface NodeHostOptions {
  exec: Exec;
  log: Logger;
  /** The plugin's state directory: the RBD map journal lives under it. */
  stateDir: string;
  /** The root host programs run in, as this process sees it ("/", "/host", "/proc/1/root"). Default "/". */
  hostRoot?: string;
  /** Where host programs are looked up; default: in hostRoot. */
  programs?: ProgramFinder;
  /** Where mounts are read (e.g. /proc/1/mountinfo when host programs run via nsenter). */
  mountinfoPath?: string;
  /** Upper bound for a device to appear after connecting. Default 60 s. */
  deviceTimeoutMs?: number;
  /** Scripted connectors (tests); default: the real iSCSI, RBD and local ones over exec. */
  connectors?: Connectors;
}

const DEFAULT_DEVICE_TIMEOUT_MS = 60_000;

/**
 * The node's host objects, all over one Exec. Part of the composition root: the node service
 * receives them and builds nothing that touches the host itself.
 */
export function buildNodeHost(o: NodeHostOptions): NodeHost {
  const hostRoot = o.hostRoot ?? '/';
  const programs = o.programs ?? new ProgramLocator({ root: hostRoot });
  const deviceTimeoutMs = o.deviceTimeoutMs ?? DEFAULT_DEVICE_TIMEOUT_MS;
  const mountinfo = o.mountinfoPath ? { mountinfoPath: o.mountinfoPath } : {};
  return {
    exec: o.exec,
    mounter: new Mounter(o.exec, mountinfo),
    filesystem: new Filesystem(o.exec),
    tools: new HostTools(programs),
    deviceTimeoutMs,
    connectors:
      o.connectors ??
      createConnectors({
        exec: o.exec,
        fs: new NodeHostFs(),
        log: o.log,
        iscsi: { deviceTimeoutMs },
        // Key files go to the host's /dev/shm (a tmpfs) as this process reaches it, and are named
        // to `rbd` as it sees them; the map journal lives in the plugin's state directory.
        rbd: {
          keyDir: join(hostRoot, 'dev/shm'),
          keyDirForExec: '/dev/shm',
          hostRoot,
          programs,
          journalDir: join(o.stateDir, 'rbd-maps'),
          ...mountinfo,
        },
      }),
  };
}
