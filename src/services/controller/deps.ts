import type { CinderClient } from '../../cinder/client.js';
import type { Logger } from '../../log/logger.js';
import type { ConnectorRegistry } from '../node-registry/registry.js';
import type { Lookups } from './lookup.js';
import type { Waiters } from './wait.js';

/** What every controller handler gets (built once by createControllerHandlers). */
export interface HandlerDeps {
  cinder: CinderClient;
  waiters: Waiters;
  /** Name lookups shared by concurrent creates. */
  lookups: Lookups;
  clusterId: string;
  /** Where nodes publish their connector records. */
  registry: ConnectorRegistry;
  ignoreVolumeAz: boolean;
  log: Logger;
  now: () => number;
}
