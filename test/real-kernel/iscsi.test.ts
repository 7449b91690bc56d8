import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRig, type Rig } from './rig.js';
import { destroy, leftovers, NOTHING, publish, readData, stage, unpublish, unstage, writeData, createVolume, controllerPublish, type Cap } from './steps.js';
import { kernelTierOrNote } from './tier.js';

const tier = kernelTierOrNote();
const T = 600_000;

describe.skipIf(!tier)('real kernel: the node plugin in a QEMU guest attaches real Cinder volumes over iSCSI', () => {
  let rig: Rig;
  beforeAll(async () => {
    if (!tier) return;
    rig = await startRig(tier);
    await rig.startNode();
  }, T);
  afterAll(async () => {
    await rig?.stop();
  }, T);

  it.each<[string, Cap]>([
    ['ext4', { kind: 'mount', fsType: 'ext4' }],
  ])('lifecycle (%s): stage, publish, write, unpublish, unstage, stage again, data intact, nothing left', async (_n, cap) => {
    const id = await createVolume(rig, `k-${cap.kind}`);
    const ctx = await controllerPublish(rig, id, cap);
    let s = await stage(rig, id, cap, ctx);
    await publish(rig, s);
    const sum = await writeData(rig, s);
    await unpublish(rig, s);
    await unstage(rig, s);
    expect((await leftovers(rig)).sessions).toEqual([]);
    s = await stage(rig, id, cap, ctx);
    await publish(rig, s);
    expect(await readData(rig, s)).toBe(sum);
    await destroy(rig, s);
    expect(await leftovers(rig)).toEqual(NOTHING);
  }, T);
});
