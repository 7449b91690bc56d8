import { describe, expect, it } from 'vitest';
import { MemoryRegistry } from '../../../test/fakes/memory-registry.js';
import { FakeCinder, lostReply } from '../../../test/controller/fake-cinder.js';
import { silentLogger } from '../../log/logger.js';
import type { RpcContext } from '../../util/context.js';

import { controllerRpcs } from '../../csi/controller.js';
import { expandHandler } from './expand.js';
import type { ControllerOperations } from './index.js';
import { createLookups } from './lookup.js';

const GiB = 1024 ** 3;
const ctx = (): RpcContext => ({ requestId: 't', signal: new AbortController().signal, deadline: Date.now() + 5000, log: silentLogger() });

async function setup(status: string, minor = 70) {
  const fake = new FakeCinder();
  fake.microversion = { major: 3, minor };
  const v = await fake.createVolume({ name: 'v', size: 1 });
  const rec = fake.volumes.get(v.id);
  if (rec) rec.status = status;
  const expand = expandHandler({ cinder: fake, waiters: fake.waiters(), lookups: createLookups(fake, 'c'), clusterId: 'c', registry: new MemoryRegistry(), ignoreVolumeAz: false, log: silentLogger(), now: Date.now });
  // Through the gRPC edge: the request is validated there and the answer is the proto's.
  const handler = controllerRpcs({ expand } as Partial<ControllerOperations> as ControllerOperations).ControllerExpandVolume;
  const req = (gib: number) => ({ volume_id: v.id, capacity_range: { required_bytes: String(gib * GiB), limit_bytes: '0' }, secrets: {}, volume_capability: null });
  return { fake, handler, req, id: v.id };
}

describe('ControllerExpandVolume (fake Cinder)', () => {
  it('in-use below microversion 3.42 → FAILED_PRECONDITION naming the version, nothing sent', async () => {
    const { fake, handler, req } = await setup('in-use', 41);
    await expect(handler(req(2), ctx())).rejects.toMatchObject({ kind: 'precondition', message: expect.stringContaining('3.42') });
    expect(fake.calls).not.toContain('extendVolume');
  });

  it('in-use from 3.42 extends', async () => {
    const { handler, req } = await setup('in-use', 42);
    expect(await handler(req(2), ctx())).toEqual({ capacity_bytes: String(2 * GiB), node_expansion_required: true });
  });

  it('a volume in another state → FAILED_PRECONDITION', async () => {
    const { handler, req } = await setup('creating');
    await expect(handler(req(2), ctx())).rejects.toMatchObject({ kind: 'precondition' });
  });

  it('a lost reply of an extend that never happened → ABORTED (the retry extends), never the old size as success', async () => {
    const { fake, handler, req } = await setup('available');
    fake.failNext.set('extendVolume', [lostReply('POST', '/volumes/{id}/action')]);
    await expect(handler(req(2), ctx())).rejects.toMatchObject({ kind: 'aborted' });
    expect(await handler(req(2), ctx())).toEqual({ capacity_bytes: String(2 * GiB), node_expansion_required: true });
  });
});
