import { describe, expect, it } from 'vitest';
import type { Volume } from '../../cinder/types.js';
import { CTX_MULTIATTACH, CTX_SHARED_TARGETS, CTX_SOURCE } from './constants.js';
import { volumeContextOf } from './volume-view.js';

const volume = (over: Partial<Volume>): Volume => ({ id: 'v1', status: 'available', size: 1, metadata: {}, attachments: [], multiattach: false, ...over });

describe('volumeContextOf', () => {
  it('carries shared_targets only once Cinder has finished creating the volume (service_uuid set)', () => {
    // Cinder saves status=available first and the driver's shared_targets with service_uuid just
    // after: in between, shared_targets is the column default (true) and would go stale.
    expect(volumeContextOf(volume({ sharedTargets: true }))).not.toHaveProperty(CTX_SHARED_TARGETS);
    expect(volumeContextOf(volume({ sharedTargets: false, serviceUuid: 'svc' }))[CTX_SHARED_TARGETS]).toBe('false');
    expect(volumeContextOf(volume({ sharedTargets: true, serviceUuid: 'svc' }))[CTX_SHARED_TARGETS]).toBe('true');
  });

  it('says multiattach always and the source of a copy', () => {
    expect(volumeContextOf(volume({ multiattach: true }))[CTX_MULTIATTACH]).toBe('true');
    expect(volumeContextOf(volume({ snapshotId: 's1' }))[CTX_SOURCE]).toBe('snapshot');
    expect(volumeContextOf(volume({ sourceVolId: 'v0' }))[CTX_SOURCE]).toBe('volume');
    expect(volumeContextOf(volume({}))).not.toHaveProperty(CTX_SOURCE);
  });
});
