import { randomUUID } from 'node:crypto';
import { MemoryRegistry } from '../../../test/fakes/memory-registry.js';
import { describe, expect, it } from 'vitest';
import { FakeCinder, lostReply } from '../../../test/controller/fake-cinder.js';
import type { CreateVolumeRequest__Output } from '../../generated/csi/v1/CreateVolumeRequest.js';
import { silentLogger } from '../../log/logger.js';
import type { RpcContext } from '../../util/context.js';
import { DriverError, type ErrorKind } from '../../util/errors.js';
import { controllerRpcs } from '../../csi/controller.js';
import { createVolumeHandler } from './create-volume.js';
import type { ControllerOperations } from './index.js';
import { META_CLUSTER, META_DUPLICATE_OF } from './constants.js';
import { createLookups } from './lookup.js';

const GiB = 1024 ** 3;
const ctx = (): RpcContext => ({ requestId: 't', signal: new AbortController().signal, deadline: Date.now() + 5000, log: silentLogger() });
const req = (name: string, o: Partial<CreateVolumeRequest__Output> = {}): CreateVolumeRequest__Output => ({
  name,
  capacity_range: { required_bytes: String(GiB), limit_bytes: '0' },
  volume_capabilities: [{ access_type: 'block', block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } }],
  parameters: {},
  secrets: {},
  volume_content_source: null,
  accessibility_requirements: null,
  mutable_parameters: {},
  ...o,
});

function setup() {
  const fake = new FakeCinder();
  const createVolume = createVolumeHandler({ cinder: fake, waiters: fake.waiters(), lookups: createLookups(fake, 'c1'), clusterId: 'c1', registry: new MemoryRegistry(), ignoreVolumeAz: false, log: silentLogger(), now: Date.now });
  // Through the gRPC edge: the request is validated there and the answer is the proto's.
  const handler = controllerRpcs({ createVolume } as Partial<ControllerOperations> as ControllerOperations).CreateVolume;
  return { fake, handler };
}

async function codeOf(p: Promise<unknown>): Promise<ErrorKind | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof DriverError) return e.kind;
    throw e;
  }
}

describe('CreateVolume (fake Cinder)', () => {
  it('a lost POST reply is resolved by looking up the name: no second volume', async () => {
    const { fake, handler } = setup();
    fake.before.set('createVolume', () => {
      // The POST reaches Cinder, then the reply is lost.
      void fake.createVolume({ name: 'pvc-1', size: 1, metadata: { [META_CLUSTER]: 'c1' } });
      fake.failNext.set('createVolume', [lostReply()]);
    });
    const res = await handler(req('pvc-1'), ctx());
    expect(fake.volumes.size).toBe(1);
    expect(res.volume?.volume_id).toBe([...fake.volumes.keys()][0]);
  });

  it('a lost POST reply that never reached Cinder surfaces (UNAVAILABLE at the edge), nothing is created', async () => {
    const { fake, handler } = setup();
    fake.failNext.set('createVolume', [lostReply()]);
    await expect(handler(req('pvc-2'), ctx())).rejects.toMatchObject({ outcomeUnknown: true });
    expect(fake.volumes.size).toBe(0);
  });

  it('loses a race to an older volume of another replica: adopts it, marks and deletes its own', async () => {
    const { fake, handler } = setup();
    let older = '';
    fake.before.set('createVolume', () => {
      older = randomUUID();
      fake.volumes.set(older, {
        id: older,
        name: 'pvc-3',
        status: 'available',
        size: 1,
        metadata: { [META_CLUSTER]: 'c1' },
        attachments: [],
        multiattach: false,
        createdAt: '2000-01-01T00:00:00.000000',
      });
    });
    const res = await handler(req('pvc-3'), ctx());
    expect(res.volume?.volume_id).toBe(older);
    expect([...fake.volumes.keys()]).toEqual([older]);
    expect(fake.calls).toContain('setVolumeMetadata');
  });

  it('a marked duplicate left behind is deleted by the next lookup and never adopted', async () => {
    const { fake, handler } = setup();
    const dup = randomUUID();
    fake.volumes.set(dup, {
      id: dup,
      name: 'pvc-4',
      status: 'available',
      size: 1,
      metadata: { [META_CLUSTER]: 'c1', [META_DUPLICATE_OF]: randomUUID() },
      attachments: [],
      multiattach: false,
      createdAt: '2000-01-01T00:00:00.000000',
    });
    const res = await handler(req('pvc-4'), ctx());
    expect(res.volume?.volume_id).not.toBe(dup);
    expect(fake.volumes.has(dup)).toBe(false);
    expect(fake.volumes.size).toBe(1);
  });

  it('reports two tagged volumes with the same name instead of guessing', async () => {
    const { fake, handler } = setup();
    await fake.createVolume({ name: 'pvc-5', size: 1, metadata: { [META_CLUSTER]: 'c1' } });
    await fake.createVolume({ name: 'pvc-5', size: 1, metadata: { [META_CLUSTER]: 'c1' } });
    const err = await handler(req('pvc-5'), ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect((err as DriverError).kind).toBe('precondition');
    for (const id of fake.volumes.keys()) expect((err as DriverError).message).toContain(id);
  });

  it('ignores same-named volumes of other clusters and untagged ones', async () => {
    const { fake, handler } = setup();
    await fake.createVolume({ name: 'pvc-6', size: 1, metadata: { [META_CLUSTER]: 'other' } });
    await fake.createVolume({ name: 'pvc-6', size: 1 });
    const res = await handler(req('pvc-6'), ctx());
    expect(fake.volumes.get(res.volume?.volume_id ?? '')?.metadata[META_CLUSTER]).toBe('c1');
    expect(fake.volumes.size).toBe(3);
  });

  it('an error volume is deleted and the call fails INTERNAL', async () => {
    const { fake, handler } = setup();
    fake.createStatus = 'error';
    expect(await codeOf(handler(req('pvc-7'), ctx()))).toBe('internal');
    expect(fake.volumes.size).toBe(0);
  });

  it('still creating at the deadline → ABORTED, and the retry adopts the same volume', async () => {
    const { fake, handler } = setup();
    fake.createStatus = 'creating';
    expect(await codeOf(handler(req('pvc-8'), ctx()))).toBe('aborted');
    const [id] = [...fake.volumes.keys()];
    const v = fake.volumes.get(id as string);
    if (v) v.status = 'available';
    const res = await handler(req('pvc-8'), ctx());
    expect(res.volume?.volume_id).toBe(id);
    expect(fake.volumes.size).toBe(1);
  });

  it('MULTI_NODE needs a multiattach type and block access', async () => {
    const { handler } = setup();
    const multi = { access_type: 'block' as const, block: {}, access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' as const } };
    expect(await codeOf(handler(req('m1', { volume_capabilities: [multi] }), ctx()))).toBe('invalid');
    expect(await codeOf(handler(req('m2', { volume_capabilities: [multi], parameters: { type: 'plain' } }), ctx()))).toBe('invalid');
    expect(await codeOf(handler(req('m3', { volume_capabilities: [multi], parameters: { type: 'nope' } }), ctx()))).toBe('invalid');
    const ok = await handler(req('m4', { volume_capabilities: [multi], parameters: { type: 'multi' } }), ctx());
    expect(ok.volume?.volume_id).toBeTruthy();
  });
});
