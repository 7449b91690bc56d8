import { backendOf, hostOf } from './backends.js';
import type { Env } from './env.js';
import { newUuid } from './ids.js';
import type { VolumeRecord } from './state.js';
import { defaultType } from './volume-types.js';

/**
 * Fills a project with volumes that were there before the test: `available`, unattached, created
 * and last updated `ageMs` ago (an hour by default), without backing files and without going
 * through the API — 10,000 in milliseconds; they count in the quota usage like any volume — so
 * benchmarks and tests can see how the driver behaves in a large project shared with other
 * tenants' tooling. Asked for by the start option `seedVolumes`.
 */
export interface SeedOptions {
  /** Default "seeded-<n>". */
  namePrefix?: string;
  metadata?: Record<string, string>;
  ageMs?: number;
  /** Volume type name; default the default type. */
  type?: string;
}

export function seedVolumes(env: Env, projectId: string, count: number, o: SeedOptions = {}): string[] {
  const type = (o.type ? env.store.typeByNameOrId(o.type) : undefined) ?? defaultType(env.store);
  const at = Date.now() - (o.ageMs ?? 3_600_000);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const v: VolumeRecord = {
      id: newUuid(),
      projectId,
      userId: 'seeded',
      name: `${o.namePrefix ?? 'seeded'}-${i}`,
      description: null,
      size: 1,
      status: 'available',
      attachStatus: 'detached',
      availabilityZone: env.zones[0] ?? 'nova',
      typeId: type.id,
      snapshotId: null,
      sourceVolid: null,
      metadata: { ...o.metadata },
      multiattach: false,
      bootable: false,
      host: hostOf(backendOf(type)),
      createdAt: at,
      updatedAt: at,
      seq: env.store.nextSeq(),
      filePath: null,
      generation: 0,
    };
    env.store.volumes.set(v.id, v);
    ids.push(v.id);
  }
  return ids;
}
