import type { ConnectionData } from './connection-data.js';

/** What a connector hands back: the block device the node formats and mounts. */
export interface AttachedDevice {
  /** Kernel device node: /dev/sdb, /dev/dm-3, /dev/rbd0, /dev/loop4. */
  path: string;
  /** SCSI identifier (scsi_id/multipath form, e.g. 36001405…), when the device has one. */
  wwn?: string;
  multipath?: boolean;
  /** RBD: how the image is mapped (recorded in the stage record, so unstage unmaps the same way). */
  mapper?: 'krbd' | 'nbd';
}

export interface ConnectOptions {
  signal?: AbortSignal;
  /** RBD: the Ceph user's key (or a keyring) from the node-stage secret. */
  secretKey?: string;
  /** Upper bound for the whole connect (logins, scans, waiting for the device). */
  timeoutMs?: number;
  /**
   * The volume is written from this node only (a single-node read-write access mode): RBD
   * refuses to map it while another client has the image open.
   */
  exclusiveWriter?: boolean;
}

export interface DisconnectOptions {
  signal?: AbortSignal;
  /**
   * Go on when flushing a path fails (a dead target): data not yet written is lost. Default
   * false: a failed flush stops the disconnect so a retry can try again.
   */
  force?: boolean;
}

/**
 * An os-brick-style connector: stateless, re-entrant, one per transport. Every method checks
 * the host's state first, so a retry after a crash continues where the first attempt stopped.
 */
export interface Connector<C extends ConnectionData = ConnectionData> {
  connect(conn: C, opts?: ConnectOptions): Promise<AttachedDevice>;
  /** The device when the volume is already connected on this host, else undefined. */
  findDevice(conn: C, opts?: { signal?: AbortSignal }): Promise<AttachedDevice | undefined>;
  /** Idempotent: a volume that is not connected is fine. */
  disconnect(conn: C, device: AttachedDevice | undefined, opts?: DisconnectOptions): Promise<void>;
  /** Make the host see the volume's new size; returns the size in bytes. */
  extend(conn: C, device: AttachedDevice, opts?: { signal?: AbortSignal }): Promise<number>;
  /**
   * Start-up, before any RPC is served: remove what this driver connected and no stage record
   * names any more (a crash or a reboot left it). `staged` is every stage record's connection.
   */
  sweepOrphans?(staged: readonly C[]): Promise<OrphanReport>;
}

export interface OrphanReport {
  /** What was removed (target IQNs, images). */
  removed: string[];
  /** What was left alone, and why (in use, or an error). */
  kept: Array<{ iqn: string; reason: string }>;
}

/** One connector per transport, built once by the composition root (see connectors.ts). */
export interface Connectors {
  iscsi: Connector<Extract<ConnectionData, { type: 'iscsi' }>>;
  rbd: Connector<Extract<ConnectionData, { type: 'rbd' }>>;
  local: Connector<Extract<ConnectionData, { type: 'local' }>>;
}

