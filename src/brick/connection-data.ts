/**
 * What a node needs to connect one volume, whatever the backend. The controller derives it from
 * Cinder's attachment connection_info (src/cinder/connection-info.ts) and ships it to the node in
 * publish_context; the node's connectors consume it. Secret fields (CHAP passwords) travel sealed.
 */
export type AccessMode = 'rw' | 'ro';

export interface ChapCredentials {
  method: 'CHAP';
  username: string;
  password: string;
}

export interface IscsiTarget {
  /** host:port (IPv6 hosts in brackets). */
  portal: string;
  iqn: string;
  lun: number;
}

/**
 * How the array numbers LUNs (Cinder's `addressing_mode`): SAM and transparent leave the number
 * alone; SAM2 uses flat space from LUN 256 on, SAM3-flat for every LUN.
 */
export type AddressingMode = 'SAM' | 'transparent' | 'SAM2' | 'SAM3-flat';
export const ADDRESSING_MODES: readonly AddressingMode[] = ['SAM', 'transparent', 'SAM2', 'SAM3-flat'];

export interface IscsiConnection {
  type: 'iscsi';
  /**
   * Single path: alternatives, the first that works wins. Multipath: the same LUN over several
   * portals, all of them used.
   */
  targets: IscsiTarget[];
  /** The node asked for multipath (its connector said so) and the backend can give paths. */
  multipath: boolean;
  /**
   * Multipath from a backend that gave one portal: ask it (sendtargets) which portals export the
   * same target, as os-brick does.
   */
  discovery?: boolean;
  addressingMode?: AddressingMode;
  auth?: ChapCredentials;
  discoveryAuth?: ChapCredentials;
  accessMode: AccessMode;
  /**
   * Whether the target holds other volumes' LUNs too (Cinder 3.48 `shared_targets`): its name then
   * says nothing about this volume, and its session may serve other volumes.
   */
  sharedTargets?: boolean;
  discard?: boolean;
}

export interface RbdConnection {
  type: 'rbd';
  pool: string;
  image: string;
  /** host:port of each monitor. */
  monitors: string[];
  /** Ceph client name without the "client." prefix. */
  user: string;
  clusterName: string;
  accessMode: AccessMode;
  discard?: boolean;
}

export interface LocalConnection {
  type: 'local';
  /** A block device, or a regular file that the node attaches as a loop device. */
  devicePath: string;
  accessMode: AccessMode;
}

export type ConnectionData = IscsiConnection | RbdConnection | LocalConnection;

export type ConnectionType = ConnectionData['type'];
