import type { CinderClient } from '../../cinder/client.js';
import type { Logger } from '../../log/logger.js';
import type { ConnectorRegistry } from '../node-registry/registry.js';
import { capacityHandler } from './capacity.js';
import { createSnapshotHandler } from './create-snapshot.js';
import { createVolumeHandler } from './create-volume.js';
import { deleteSnapshotHandler } from './delete-snapshot.js';
import { deleteVolumeHandler } from './delete-volume.js';
import type { HandlerDeps } from './deps.js';
import { expandHandler } from './expand.js';
import { getSnapshotHandler } from './get-snapshot.js';
import { getVolumeHandler } from './get-volume.js';
import { listSnapshotsHandler } from './list-snapshots.js';
import { groupSnapshotHandlers } from './group-snapshots.js';
import { listVolumesHandler } from './list-volumes.js';
import { modifyVolumeHandler } from './modify-volume.js';
import { createLookups } from './lookup.js';
import { publishHandler } from './publish.js';
import { unpublishHandler } from './unpublish.js';
import { validateCapabilitiesHandler } from './validate-capabilities.js';
import type { Waiters } from './wait.js';

export type { Waiters } from './wait.js';
export { META_CLUSTER } from './constants.js';

export interface ControllerDeps {
  /** Used only through its interface (unit tests pass a fake). */
  cinder: CinderClient;
  /** The batched waiters, one per kind: `createControllerWaiters(client)`. */
  waiter: Waiters;
  /** Tags every volume/snapshot this cluster makes; lookups and lists see only tagged objects. */
  clusterId: string;
  /** Report no topology: Cinder zones do not match the nodes' zones. */
  ignoreVolumeAz: boolean;
  /** Where nodes publish their connector records (facts a v2 node id does not carry). */
  registry: ConnectorRegistry;
  log: Logger;
  now?: () => number;
}


/** The controller's use cases, on validated requests (the gRPC edge, src/csi/controller.ts, adapts them). */
export type ControllerOperations = ReturnType<typeof createControllerOperations>;

/**
 * The controller service: one operation per implemented CSI RPC. No operation keeps state
 * beyond a call, so replicas behind leader election and restarts are safe.
 */
export function createControllerOperations(deps: ControllerDeps) {
  if (!deps.clusterId) throw new Error('the controller needs a cluster id (cloud config [BlockStorage] cluster-id)');
  const d: HandlerDeps = {
    cinder: deps.cinder,
    waiters: deps.waiter,
    lookups: createLookups(deps.cinder, deps.clusterId),
    clusterId: deps.clusterId,
    registry: deps.registry,
    ignoreVolumeAz: deps.ignoreVolumeAz,
    log: deps.log,
    now: deps.now ?? Date.now,
  };
  return {
    createVolume: createVolumeHandler(d),
    deleteVolume: deleteVolumeHandler(d),
    publish: publishHandler(d),
    unpublish: unpublishHandler(d),
    validate: validateCapabilitiesHandler(d),
    listVolumes: listVolumesHandler(d),
    capacity: capacityHandler(d),
    createSnapshot: createSnapshotHandler(d),
    deleteSnapshot: deleteSnapshotHandler(d),
    listSnapshots: listSnapshotsHandler(d),
    getSnapshot: getSnapshotHandler(d),
    expand: expandHandler(d),
    modifyVolume: modifyVolumeHandler(d),
    getVolume: getVolumeHandler(d),
    ...groupSnapshotHandlers(d),
  };
}
