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

export interface IscsiConnection {
  type: 'iscsi';
  /** One entry for a single path; several for multipath (same LUN over several portals). */
  targets: IscsiTarget[];
  /** True when the backend offered several paths and multipath should be used. */
  multipath: boolean;
  auth?: ChapCredentials;
  discoveryAuth?: ChapCredentials;
  accessMode: AccessMode;
  /** Whether the target is shared with other volumes' LUNs (Cinder 3.48 shared_targets). */
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
