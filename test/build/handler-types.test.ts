import { describe, expect, it } from 'vitest';
import { loadCsi } from '../../src/csi/proto.js';
import { UNIMPLEMENTED, type ControllerRpcs, type NodeRpcs } from '../../src/csi/service-types.js';

/**
 * The handler maps are typed from the generated services (`npm test` type-checks this file):
 * each `@ts-expect-error` below must meet an error, or the check itself fails as unused.
 */
const every = (service: 'Controller' | 'Node'): Record<string, typeof UNIMPLEMENTED> =>
  Object.fromEntries(Object.keys(loadCsi()[service].service).map((m) => [m, UNIMPLEMENTED]));

describe('typed handler maps', () => {
  it('reject a misspelled, a missing or a wrongly typed RPC at compile time', () => {
    const controller = every('Controller') as ControllerRpcs;
    // @ts-expect-error a misspelled RPC name is not a Controller RPC
    const misspelled: ControllerRpcs = { ...controller, CreateVolumes: UNIMPLEMENTED };
    const { NodeStageVolume: _dropped, ...withoutStage } = every('Node') as NodeRpcs;
    // @ts-expect-error every Node RPC must be named
    const missing: NodeRpcs = withoutStage;
    // @ts-expect-error a handler answers its own RPC's response
    const wrongResponse: ControllerRpcs = { ...controller, CreateVolume: async () => ({ volume: 'not a Volume' }) };
    expect([misspelled, missing, wrongResponse].every((m) => typeof m === 'object')).toBe(true);
  });

  it('name every RPC the proto defines', () => {
    expect(Object.keys(every('Controller'))).toContain('ControllerModifyVolume');
    expect(Object.keys(every('Node'))).toContain('NodeExpandVolume');
  });
});
