import { silentLogger } from '../log/logger.js';
import type { CinderClient } from './client.js';
import { systemClock } from './clock.js';
import { isNotFound } from './errors.js';
import type { PollCounters } from './poll.js';
import { volumeChangesSource, type ChangesSourceOptions } from './poll-changes.js';
import { statusSource } from './poll-status.js';
import type { Backup, Snapshot, Volume } from './types.js';
import { BatchedWaiter, type BatchedWaiterOptions } from './waiter.js';

/** The waiters the controller uses, one per kind, over a CinderClient. */

type VolumeClient = Pick<CinderClient, 'features' | 'listAllVolumes' | 'getVolume'>;
type SnapshotClient = Pick<CinderClient, 'listAllSnapshots' | 'getSnapshot'>;
type BackupClient = Pick<CinderClient, 'listAllBackups' | 'getBackup'>;

export type VolumeWaiterOptions = Omit<BatchedWaiterOptions<Volume>, 'kind' | 'keyOf' | 'counters'> &
  Pick<ChangesSourceOptions, 'marginMs' | 'livenessMs' | 'clusterTag'>;

/**
 * Volumes: what changed since the last tick (Cinder ≥ 3.60), else the whole-project walk
 * (poll-changes.ts). `watch` keys on the volume name.
 */
export function createVolumeWaiter(client: VolumeClient, opts: VolumeWaiterOptions = {}): BatchedWaiter<Volume> {
  const counters: PollCounters = { listCalls: 0, getCalls: 0 };
  const { marginMs, livenessMs, clusterTag, ...rest } = opts;
  const source = volumeChangesSource({
    client,
    clock: opts.clock ?? systemClock,
    log: (opts.log ?? silentLogger()).child({ waiter: 'volume' }),
    counters,
    ...(marginMs !== undefined ? { marginMs } : {}),
    ...(livenessMs !== undefined ? { livenessMs } : {}),
    ...(clusterTag ? { clusterTag } : {}),
  });
  return new BatchedWaiter<Volume>(source, { ...rest, kind: 'volume', counters, keyOf: (v) => v.name });
}

/** Snapshots: one list per status in flight (poll-status.ts). */
export function createSnapshotWaiter(client: SnapshotClient, opts: Omit<BatchedWaiterOptions<Snapshot>, 'kind' | 'counters'> = {}): BatchedWaiter<Snapshot> {
  const counters: PollCounters = { listCalls: 0, getCalls: 0 };
  const source = statusSource<Snapshot>({
    listByStatus: (status, o) => client.listAllSnapshots({ status }, o),
    getOne: (id, o) => orUndefined(client.getSnapshot(id, o)),
    counters,
  });
  return new BatchedWaiter<Snapshot>(source, { ...opts, kind: 'snapshot', counters, keyOf: (s) => s.name });
}

/** Backups: one list per status in flight, like snapshots. */
export function createBackupWaiter(client: BackupClient, opts: Omit<BatchedWaiterOptions<Backup>, 'kind' | 'counters'> = {}): BatchedWaiter<Backup> {
  const counters: PollCounters = { listCalls: 0, getCalls: 0 };
  const source = statusSource<Backup>({
    listByStatus: (status, o) => client.listAllBackups({ status }, o),
    getOne: (id, o) => orUndefined(client.getBackup(id, o)),
    counters,
  });
  return new BatchedWaiter<Backup>(source, { ...opts, kind: 'backup', counters, keyOf: (b) => b.name });
}

/** One waiter of each kind over one client: what the controller waits with. */
export interface ControllerWaiters {
  volumes: BatchedWaiter<Volume>;
  snapshots: BatchedWaiter<Snapshot>;
  backups: BatchedWaiter<Backup>;
  /** Stops every waiter's timer: call before closing the client. */
  stop(): void;
}

export function createControllerWaiters(
  client: VolumeClient & SnapshotClient & BackupClient,
  opts: Pick<VolumeWaiterOptions, 'log' | 'clusterTag'> = {},
): ControllerWaiters {
  const log = opts.log ? { log: opts.log } : {};
  const volumes = createVolumeWaiter(client, { ...log, ...(opts.clusterTag ? { clusterTag: opts.clusterTag } : {}) });
  const snapshots = createSnapshotWaiter(client, log);
  const backups = createBackupWaiter(client, log);
  return {
    volumes,
    snapshots,
    backups,
    stop: () => {
      volumes.stop();
      snapshots.stop();
      backups.stop();
    },
  };
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}


