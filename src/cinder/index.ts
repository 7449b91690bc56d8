/** The Cinder/Keystone client, the batched waiter and the connection_info parser. */
export type { CinderClientConfig } from './config.js';
export { InvalidClientConfigError, DEFAULT_REQUEST_TIMEOUT_MS } from './config.js';
export { HttpCinderClient, createCinderClient, type CinderClient, type ClientDeps } from './client.js';
export type { CreateVolumeRequest, ListVolumesRequest, VolumeFilter } from './volumes.js';
export type { CreateSnapshotRequest, ListSnapshotsRequest } from './snapshots.js';
export type { CreateBackupRequest, ListBackupsRequest } from './backups.js';
export type { CreateGroupRequest, UpdateGroupRequest } from './groups.js';
export type { CreateAttachmentRequest } from './attachments.js';
export type { CallOptions } from './request.js';
export type {
  AbsoluteLimits,
  Attachment,
  AvailabilityZone,
  Backup,
  Group,
  GroupSnapshot,
  HostConnector,
  Page,
  QuotaUsage,
  QuotaUsageEntry,
  Snapshot,
  Volume,
  VolumeAttachmentRef,
  VolumeType,
} from './types.js';
export { extraSpecIsTrue } from './types.js';
export {
  CinderError,
  KeystoneError,
  QuotaExceededError,
  errorMessageOf,
  isBadRequest,
  isForbidden,
  isNotFound,
  isOutcomeUnknown,
  isUnauthorized,
  type CinderErrorKind,
} from './errors.js';
export { featuresFor, MIN_MICROVERSION, MAX_MICROVERSION, type CinderFeatures } from './microversion.js';
export { BatchedWaiter, type BatchedWaiterOptions, type WaitOptions, type WaitResult, type WaitVerdict, type WaiterSource, type WaiterStats } from './waiter.js';
export { createBackupWaiter, createControllerWaiters, createSnapshotWaiter, createVolumeWaiter, type ControllerWaiters, type VolumeWaiterOptions } from './waiters.js';
export type { PollAnswer, PollSource, PollTarget } from './poll.js';
export { systemClock, type Clock } from './clock.js';
export { ConnectionInfoError, parseConnectionInfo } from './connection-info.js';
