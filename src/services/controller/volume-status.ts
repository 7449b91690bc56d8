import type { Volume } from '../../cinder/types.js';
import { publishedNodeIds, readNodeRecords } from './attachments.js';
import { parseCinderTime } from './cinder-time.js';
import type { VolumeCondition, VolumeStatus } from './requests.js';

/**
 * What ListVolumes and ControllerGetVolume report beside the volume: the node ids it is
 * published to (from Cinder's attachments + the ids recorded at publish) and its condition.
 * Abnormal: any `error*` status, or a transitional status held longer than Cinder ever needs
 * (a stuck `attaching`/`detaching`/`deleting` wants an operator).
 */
export const STUCK_AFTER_MS = 15 * 60_000;

const TRANSITIONAL: ReadonlySet<string> = new Set([
  'creating',
  'attaching',
  'detaching',
  'deleting',
  'extending',
  'reserved',
  'downloading',
  'uploading',
  'retyping',
  'maintenance',
  'backing-up',
  'restoring-backup',
  'awaiting-transfer',
]);

export function volumeCondition(vol: Volume, now: number): VolumeCondition {
  if (vol.status.startsWith('error')) {
    return { abnormal: true, message: `Cinder reports the volume in status ${vol.status}; see Cinder's user messages for why` };
  }
  if (TRANSITIONAL.has(vol.status)) {
    const since = parseCinderTime(vol.updatedAt ?? vol.createdAt);
    if (since && now - since.ms > STUCK_AFTER_MS) {
      const minutes = Math.floor((now - since.ms) / 60_000);
      return { abnormal: true, message: `the volume has been ${vol.status} for ${minutes} minutes; an operator should check it in Cinder` };
    }
  }
  return { abnormal: false, message: `volume is ${vol.status}` };
}

export function volumeStatusOf(vol: Volume, now: number): VolumeStatus {
  return { publishedNodeIds: publishedNodeIds(vol.attachments, readNodeRecords(vol.metadata)), condition: volumeCondition(vol, now) };
}
