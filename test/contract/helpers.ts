import {
  createBackupWaiter,
  createSnapshotWaiter,
  createVolumeWaiter,
  errorMessageOf,
  isNotFound,
  type CinderClient,
  type Backup,
  type HostConnector,
  type Snapshot,
  type Volume,
  type WaitResult,
  type WaitVerdict,
} from '../../src/cinder/index.js';

/** Waiting and cleanup for the contract suite, through the client's own batched waiters. */

export const WAIT_MS = 45_000;

export function statusIs(...statuses: string[]): (o: { status: string }) => WaitVerdict {
  return (o) => (statuses.includes(o.status) ? 'done' : 'pending');
}

export class Waits {
  readonly volumes;
  readonly snapshots;
  readonly backups;
  constructor(client: CinderClient) {
    this.volumes = createVolumeWaiter(client, { minIntervalMs: 100, maxIntervalMs: 1000 });
    this.snapshots = createSnapshotWaiter(client, { minIntervalMs: 100, maxIntervalMs: 1000 });
    this.backups = createBackupWaiter(client, { minIntervalMs: 100, maxIntervalMs: 1000 });
  }

  async backup(id: string, until: (b: Backup) => WaitVerdict, ms = WAIT_MS): Promise<Backup> {
    const r = await this.backups.waitFor(id, { until, deadline: Date.now() + ms });
    return expectDone(r, `backup ${id}`);
  }

  async backupGone(id: string, ms = WAIT_MS): Promise<void> {
    const r = await this.backups.waitFor(id, { until: () => 'pending', deadline: Date.now() + ms });
    if (r.outcome !== 'gone') throw new Error(`backup ${id} not gone: ${describe(r)}`);
  }

  async volume(id: string, until: (v: Volume) => WaitVerdict, ms = WAIT_MS): Promise<Volume> {
    const r = await this.volumes.waitFor(id, { until, deadline: Date.now() + ms });
    return expectDone(r, `volume ${id}`);
  }

  async volumeGone(id: string, ms = WAIT_MS): Promise<void> {
    const r = await this.volumes.waitFor(id, { until: () => 'pending', deadline: Date.now() + ms });
    if (r.outcome !== 'gone') throw new Error(`volume ${id} not gone: ${describe(r)}`);
  }

  async snapshot(id: string, until: (s: Snapshot) => WaitVerdict, ms = WAIT_MS): Promise<Snapshot> {
    const r = await this.snapshots.waitFor(id, { until, deadline: Date.now() + ms });
    return expectDone(r, `snapshot ${id}`);
  }

  async snapshotGone(id: string, ms = WAIT_MS): Promise<void> {
    const r = await this.snapshots.waitFor(id, { until: () => 'pending', deadline: Date.now() + ms });
    if (r.outcome !== 'gone') throw new Error(`snapshot ${id} not gone: ${describe(r)}`);
  }

  stop(): void {
    this.volumes.stop();
    this.snapshots.stop();
    this.backups.stop();
  }
}

function describe<T extends { status: string }>(r: WaitResult<T>): string {
  if (r.outcome === 'done' || r.outcome === 'failed') return `${r.outcome} (${r.object.status})`;
  if (r.outcome === 'timeout') return `timeout (last ${r.last?.status ?? '-'}${r.lastError ? `, ${r.lastError}` : ''})`;
  return r.outcome;
}

function expectDone<T extends { status: string }>(r: WaitResult<T>, what: string): T {
  if (r.outcome !== 'done') throw new Error(`${what}: ${describe(r)}`);
  return r.object;
}

export function connectorFor(host: string): HostConnector {
  return {
    initiator: `iqn.2004-10.com.example:01:${host}`,
    ip: '127.0.0.1',
    host,
    multipath: false,
    platform: 'x86_64',
    os_type: 'linux2',
    do_local_attach: false,
  };
}

/** Best-effort removal of everything a case created: attachments, snapshots, then volumes. */
export async function cleanupVolumes(client: CinderClient, waits: Waits, volumeIds: Iterable<string>): Promise<void> {
  for (const id of volumeIds) {
    try {
      for (const a of await client.listAttachments({ volumeId: id })) await client.deleteAttachment(a.id).catch(() => undefined);
      for (const s of await client.listAllSnapshots({ volumeId: id })) {
        await client.deleteSnapshot(s.id).catch(() => undefined);
        await waits.snapshotGone(s.id, 20_000).catch(() => undefined);
      }
      await waits.volume(id, statusIs('available', 'error'), 20_000).catch(() => undefined);
      await client.deleteVolume(id);
      await waits.volumeGone(id, 20_000).catch(() => undefined);
    } catch (err) {
      if (!isNotFound(err)) console.error(`contract cleanup of volume ${id} failed: ${(err as Error).message}`);
    }
  }
}

/** The refusal a Cinder call ends in: its HTTP status and message (fails if Cinder accepts). */
export async function refusal(p: Promise<unknown>): Promise<{ status?: number; message: string }> {
  try {
    await p;
  } catch (err) {
    return { status: (err as { status?: number }).status, message: errorMessageOf(err) };
  }
  throw new Error('expected Cinder to refuse');
}
