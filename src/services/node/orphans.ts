import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connectors, OrphanReport } from '../../brick/connector.js';
import type { IscsiConnection, RbdConnection } from '../../brick/connection-data.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import { indexedStages } from './stage-index.js';
import { readStashAt, STASH_FILE, type Stash } from './stash.js';

/**
 * Where kubelet puts staging paths under its directory, and so our stage records:
 *   plugins/kubernetes.io/csi/<driver>/<hash>/cinder-metal-csi.json     (mount, kubelet ≥ 1.24)
 *   plugins/kubernetes.io/csi/pv/<pv>/cinder-metal-csi.json             (mount, older kubelets)
 *   plugins/kubernetes.io/csi/volumeDevices/staging/<pv>/cinder-metal-csi.json (block)
 * The walk never enters a staging mount (globalmount: the workload's files) or a publish tree.
 */
const CSI_DIR = join('plugins', 'kubernetes.io', 'csi');
const NEVER_ENTER = new Set(['globalmount', 'publish', 'mount']);
const MAX_DEPTH = 3;

/**
 * Every stage record on this node: those the index in the state dir names, and those found where
 * kubelet puts staging paths. An unreadable one throws: it might name a live session.
 */
export async function listStashes(kubeletDir: string, stateDir: string): Promise<Stash[]> {
  const out: Stash[] = [];
  const seen = new Set<string>();
  for (const { volumeId, stashFile } of await indexedStages(stateDir)) {
    const s = await readStashAt(stashFile);
    if (s && s.volumeId === volumeId) {
      out.push(s);
      seen.add(stashFile);
    }
  }
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      if (e.isFile() && e.name === STASH_FILE) {
        if (seen.has(join(dir, e.name))) continue;
        const s = await readStashAt(join(dir, e.name));
        if (s) out.push(s);
      } else if (e.isDirectory() && depth < MAX_DEPTH && !NEVER_ENTER.has(e.name)) {
        await walk(join(dir, e.name), depth + 1);
      }
    }
  };
  await walk(join(kubeletDir, CSI_DIR), 0);
  return out;
}

/**
 * At start, before serving: each connector removes what it connected and no stage record names
 * (a NodeStage killed before its record was written, a volume kubelet forgot after a reboot).
 * Any doubt (a record that cannot be read) skips the sweep: leaving a session costs nothing,
 * removing a live one loses data.
 */
const EMPTY: OrphanReport = { removed: [], kept: [] };

export async function sweepOrphansAtStart(connectors: Connectors, kubeletDir: string, stateDir: string, log: Logger): Promise<void> {
  if (!connectors.iscsi.sweepOrphans && !connectors.rbd.sweepOrphans) return;
  let stashes: Stash[];
  try {
    stashes = await listStashes(kubeletDir, stateDir);
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'start-up sweep skipped: a stage record cannot be read');
    return;
  }
  const iscsi = stashes.flatMap((s): IscsiConnection[] => (s.connection.type === 'iscsi' ? [s.connection] : []));
  const rbd = stashes.flatMap((s): RbdConnection[] => (s.connection.type === 'rbd' ? [s.connection] : []));
  const { iscsi: iscsiConnector, rbd: rbdConnector } = connectors;
  const sweeps: Array<[string, (() => Promise<OrphanReport>) | undefined]> = [
    ['iscsi sessions', iscsiConnector.sweepOrphans ? () => iscsiConnector.sweepOrphans?.(iscsi) ?? Promise.resolve(EMPTY) : undefined],
    ['rbd mappings', rbdConnector.sweepOrphans ? () => rbdConnector.sweepOrphans?.(rbd) ?? Promise.resolve(EMPTY) : undefined],
  ];
  for (const [what, sweep] of sweeps) {
    if (!sweep) continue;
    try {
      const report = await sweep();
      if (report.removed.length > 0 || report.kept.length > 0) log.info({ what, removed: report.removed, kept: report.kept, staged: stashes.length }, 'start-up sweep done');
    } catch (err) {
      log.warn({ err: errorMessage(err) }, `start-up sweep of ${what} failed; nothing more was removed`);
    }
  }
}
