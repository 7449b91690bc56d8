import type { LevelWithSilent } from 'pino';
import type { Mode } from '../services/capabilities.js';

export type HostExecMode = 'direct' | 'nsenter' | 'chroot';

/** Everything the process is told by flags or environment; the CLI builds it. */
export interface AppOptions {
  mode: Mode;
  endpoint: string;
  nodeName?: string;
  cloudConfig?: string;
  logLevel: LevelWithSilent;
  httpEndpoint?: string;
  kubeletDir: string;
  stateDir: string;
  nodeIp?: string;
  nodeZone?: string;
  maxVolumesPerNode?: number;
  hostExec: HostExecMode;
  /**
   * Where node plugins publish their connector records: `kubernetes` (Node annotations) or
   * `dir:/path`. Default: kubernetes inside a pod, else `dir:<state dir>/connectors`.
   */
  connectorRegistry?: string;
  /** Node: ask Cinder for every path — on, off, or auto (when multipathd answers). */
  multipath?: 'auto' | 'on' | 'off';
  /** Seconds to let in-flight RPCs finish on SIGTERM. */
  shutdownGraceSeconds: number;
}

export const DEFAULTS = {
  endpoint: 'unix:///csi/csi.sock',
  logLevel: 'info',
  kubeletDir: '/var/lib/kubelet',
  stateDir: '/var/lib/cinder-metal-csi',
  hostExec: 'direct',
  shutdownGraceSeconds: 30,
} as const;
