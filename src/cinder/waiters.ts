import { silentLogger } from '../log/logger.js';
import type { CinderClient } from './client.js';
import { systemClock } from './clock.js';
import { isNotFound } from './errors.js';
import type { PollCounters } from './poll.js';
import { volumeChangesSource, type ChangesSourceOptions } from './poll-changes.js';
import { statusSource } from './poll-status.js';
import type { Snapshot, Volume } from './types.js';
import { BatchedWaiter, type BatchedWaiterOptions } from './waiter.js';

/** The waiters the controller uses, one per kind, over a CinderClient. */

type VolumeClient = Pick<CinderClient, 'features' | 'listAllVolumes' | 'getVolume'>;
type SnapshotClient = Pick<CinderClient, 'listAllSnapshots' | 'getSnapshot'>;

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

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}


