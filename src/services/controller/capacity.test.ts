import { describe, expect, it } from 'vitest';
import { MemoryRegistry } from '../../../test/fakes/memory-registry.js';
import { FakeCinder } from '../../../test/controller/fake-cinder.js';
import type { GetCapacityRequest__Output } from '../../generated/csi/v1/GetCapacityRequest.js';
import { silentLogger } from '../../log/logger.js';
import type { RpcContext } from '../../util/context.js';
import { DriverError } from '../../util/errors.js';
import { controllerRpcs } from '../../csi/controller.js';
import { capacityHandler, headroomGiB, UNLIMITED_BYTES } from './capacity.js';
import type { ControllerOperations } from './index.js';
import { createLookups } from './lookup.js';

const GiB = 1024 ** 3;
const ctx = (): RpcContext => ({ requestId: 't', signal: new AbortController().signal, log: silentLogger() });
const req = (o: Partial<GetCapacityRequest__Output> = {}): GetCapacityRequest__Output => ({
  volume_capabilities: [],
  parameters: {},
  accessible_topology: null,
  ...o,
});

function setup(quota: FakeCinder['quota']) {
  const fake = new FakeCinder();
  fake.quota = quota;
  const capacity = capacityHandler({ cinder: fake, waiters: fake.waiters(), lookups: createLookups(fake, 'c'), clusterId: 'c', registry: new MemoryRegistry(), ignoreVolumeAz: false, log: silentLogger(), now: Date.now });
  // Through the gRPC edge: the request is validated there and the answer is the proto's.
  const { GetCapacity } = controllerRpcs({ capacity } as Partial<ControllerOperations> as ControllerOperations);
  return { fake, handler: GetCapacity };
}

describe('GetCapacity = quota headroom', () => {
  it.each([
    [{ limit: 100, inUse: 10, reserved: 5 }, 85],
    [{ limit: 10, inUse: 12, reserved: 0 }, 0],
    [{ limit: 0, inUse: 0, reserved: 0 }, 0],
    [{ limit: -1, inUse: 5, reserved: 0 }, undefined],
  ])('headroom of %o is %s GiB', (entry, want) => {
    expect(headroomGiB(entry)).toBe(want);
  });

  it('reports limit − in_use − reserved in bytes', async () => {
    const { handler } = setup({ gigabytes: { limit: 100, inUse: 10, reserved: 5 } });
    const res = await handler(req(), ctx());
    expect(res.available_capacity).toBe(String(85 * GiB));
    expect(res.minimum_volume_size).toEqual({ value: String(GiB) });
  });

  it('unlimited is the largest int64, never negative or absent', async () => {
    const { handler } = setup({ gigabytes: { limit: -1, inUse: 10, reserved: 0 } });
    expect((await handler(req(), ctx())).available_capacity).toBe(String(UNLIMITED_BYTES));
  });

  it('a per-type quota bounds the answer for that type', async () => {
    const { handler } = setup({ gigabytes: { limit: 100, inUse: 10, reserved: 0 }, gigabytes_plain: { limit: 20, inUse: 5, reserved: 0 } });
    expect((await handler(req({ parameters: { type: 'plain' } }), ctx())).available_capacity).toBe(String(15 * GiB));
    expect((await handler(req({ parameters: { type: 'other' } }), ctx())).available_capacity).toBe(String(90 * GiB));
  });

  it('an unlimited total with a per-type limit reports the per-type headroom', async () => {
    const { handler } = setup({ gigabytes: { limit: -1, inUse: 0, reserved: 0 }, gigabytes_plain: { limit: 7, inUse: 2, reserved: 1 } });
    expect((await handler(req({ parameters: { type: 'plain' } }), ctx())).available_capacity).toBe(String(4 * GiB));
  });

  it('per_volume_gigabytes becomes maximum_volume_size', async () => {
    const { handler } = setup({ gigabytes: { limit: 100, inUse: 0, reserved: 0 }, per_volume_gigabytes: { limit: 50, inUse: 0, reserved: 0 } });
    expect((await handler(req(), ctx())).maximum_volume_size).toEqual({ value: String(50 * GiB) });
  });

  it('capabilities the type cannot serve give 0; malformed ones are INVALID_ARGUMENT; unknown parameters too', async () => {
    const { handler } = setup({ gigabytes: { limit: 100, inUse: 0, reserved: 0 } });
    const multi = { access_type: 'block' as const, block: {}, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' as const } };
    expect((await handler(req({ volume_capabilities: [multi], parameters: { type: 'plain' } }), ctx())).available_capacity).toBe('0');
    expect((await handler(req({ volume_capabilities: [multi], parameters: { type: 'multi' } }), ctx())).available_capacity).toBe(String(100 * GiB));
    await expect(handler(req({ volume_capabilities: [{ access_mode: { mode: 'SINGLE_NODE_WRITER' } }] }), ctx())).rejects.toMatchObject({
      kind: 'invalid',
    });
    await expect(handler(req({ parameters: { bogus: 'x' } }), ctx())).rejects.toBeInstanceOf(DriverError);
  });
});
