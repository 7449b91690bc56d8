import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../../src/csi/status-codes.js';
import { createReq, failure, publishReq, startHarness, testNode, unpublishReq, type Harness } from './harness.js';

/**
 * ControllerModifyVolume (a VolumeAttributesClass's `type` → os-retype) over HTTP against the
 * emulator, whose retype the contract suite checks against the real Cinder. Types: "iscsi",
 * "iscsi-gold" (the same extra specs: retyped in place), "iscsi-tier2" (another spec: needs a
 * migration) and "rbd" (another backend).
 */
describe('ControllerModifyVolume over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      emulator: {
        volumeTypes: [
          { name: 'iscsi-gold', extraSpecs: { volume_backend_name: 'iscsi' } },
          { name: 'iscsi-tier2', extraSpecs: { volume_backend_name: 'iscsi', 'csi-test:tier': '2' } },
        ],
      },
    });
  });
  afterAll(async () => h.stop());

  let seq = 0;
  const volume = async (mutable: Record<string, string> = {}): Promise<string> =>
    (await h.rpc.CreateVolume(createReq(`pvc-mod-${++seq}`, { parameters: { type: 'iscsi' }, mutable_parameters: mutable }), h.ctx())).volume?.volume_id ?? '';
  const modify = (volumeId: string, mutable: Record<string, string>, timeoutMs?: number) =>
    h.rpc.ControllerModifyVolume({ volume_id: volumeId, mutable_parameters: mutable, secrets: {} }, h.ctx(timeoutMs));
  const typeOf = async (id: string) => (await h.client.getVolume(id)).volumeType;
  const retypes = () => h.calls.filter((c) => c.method === 'retypeVolume').length;

  it('refuses what it cannot change by name (INVALID_ARGUMENT: the class is infeasible), a missing volume NOT_FOUND', async () => {
    const id = await volume();
    expect(await failure(modify(id, { iops: '3000' }))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('"iops"') });
    expect(await failure(modify(id, { type: 'no-such-type' }))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('no-such-type') });
    expect(await failure(modify(id, { type: 'iscsi-gold', migrationPolicy: 'always' }))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('migrationPolicy') });
    expect((await failure(modify('00000000-0000-4000-8000-000000000000', { type: 'iscsi-gold' }))).code).toBe(Code.NOT_FOUND);
    expect(await failure(modify('', { type: 'iscsi-gold' }))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('volume_id') });
    expect(await typeOf(id)).toBe('iscsi');
  });

  it('retypes in place, is idempotent (10 calls, one retype), and an empty class changes nothing', async () => {
    const id = await volume();
    const before = retypes();
    for (let i = 0; i < 10; i++) expect(await modify(id, { type: 'iscsi-gold' })).toEqual({});
    expect(await typeOf(id)).toBe('iscsi-gold');
    expect(retypes() - before).toBe(1);
    expect(await modify(id, {})).toEqual({});
    expect(retypes() - before).toBe(1);
  });

  it('an attached volume is retyped in place but never migrated, whatever the class allows (no Nova to swap it)', async () => {
    const id = await volume();
    const node = testNode();
    await h.rpc.ControllerPublishVolume(publishReq(id, node.id), h.ctx());
    expect(await modify(id, { type: 'iscsi-gold' })).toEqual({});
    expect(await typeOf(id)).toBe('iscsi-gold');
    const refused = await failure(modify(id, { type: 'rbd', migrationPolicy: 'on-demand' }));
    expect(refused).toMatchObject({ code: Code.FAILED_PRECONDITION, message: expect.stringMatching(/attached volume is never migrated.*stop the workload/) });
    const sent = h.calls.filter((c) => c.method === 'retypeVolume').at(-1);
    expect(sent?.args.slice(1)).toEqual(['rbd', 'never']);
    const v = await h.client.getVolume(id);
    expect(v).toMatchObject({ status: 'in-use', volumeType: 'iscsi-gold' });
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
  });

  it('a detached volume that needs a migration: FAILED_PRECONDITION unless the class allows it, then migrated', async () => {
    const id = await volume();
    expect(await failure(modify(id, { type: 'iscsi-tier2' }))).toMatchObject({ code: Code.FAILED_PRECONDITION, message: expect.stringContaining('migrationPolicy: on-demand') });
    expect(await typeOf(id)).toBe('iscsi');
    expect(await modify(id, { type: 'iscsi-tier2', migrationPolicy: 'on-demand' })).toEqual({});
    expect(await h.client.getVolume(id)).toMatchObject({ status: 'available', volumeType: 'iscsi-tier2' });
  });

  it('still retyping at the deadline → ABORTED; the retry waits for it and answers OK', async () => {
    const id = await volume();
    h.emu.setFaults({ stuck: { volumes: ['retyping'] } });
    expect((await failure(modify(id, { type: 'iscsi-gold' }, 1500))).code).toBe(Code.ABORTED);
    h.emu.setFaults({});
    expect(await modify(id, { type: 'iscsi-gold' })).toEqual({});
    expect(await typeOf(id)).toBe('iscsi-gold');
  });

  it('CreateVolume takes the class\'s type over the StorageClass\'s, and refuses a key it cannot change', async () => {
    const id = await volume({ type: 'iscsi-gold' });
    expect(await typeOf(id)).toBe('iscsi-gold');
    // ValidateVolumeCapabilities reads the class the same way, and echoes it when confirmed.
    const validate = (mutable: Record<string, string>) =>
      h.rpc.ValidateVolumeCapabilities(
        { volume_id: id, volume_capabilities: [{ access_type: 'mount', mount: { fs_type: '', mount_flags: [], volume_mount_group: '' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } }], parameters: { type: 'iscsi' }, mutable_parameters: mutable, volume_context: {}, secrets: {} } as never,
        h.ctx(),
      );
    expect((await validate({ type: 'iscsi-gold' })).confirmed?.mutable_parameters).toEqual({ type: 'iscsi-gold' });
    expect((await validate({ type: 'rbd' })).message).toContain('not "rbd"');
    const bad = await failure(h.rpc.CreateVolume(createReq('pvc-mod-bad', { mutable_parameters: { XXX_FakeKey: 'x' } }), h.ctx()));
    expect(bad).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('XXX_FakeKey') });
  });
});
