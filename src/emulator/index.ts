/**
 * The embedded Cinder v3 + Keystone v3 emulator (architecture §9). Imports only node: modules and its
 * own files, so it can ship inside the driver and run in tests, demos and benchmarks.
 */
export { startEmulator } from './server.js';
export { runEmulatorCli } from './cli.js';
export { DEFAULT_PROJECT_ID, DEFAULT_USER } from './identity.js';
export { validateFaultConfig, FaultConfigError } from './faults.js';
export type {
  EmulatorOptions,
  RunningEmulator,
  FaultConfig,
  RouteFaults,
  StuckState,
  EmulatorStats,
  TransitionRecord,
  EmulatorUser,
  EmulatorVolumeType,
  EmulatorQuotas,
} from './types.js';
