import { describe, expect, it } from 'vitest';
import type { ConnectionData } from '../brick/connection-data.js';
import { generateNodeKeyPair } from '../util/seal.js';
import { decodePublishContext, encodePublishContext } from './publish-context.js';

const nodeA = generateNodeKeyPair();
const nodeB = generateNodeKeyPair();

const iscsi: ConnectionData = {
  type: 'iscsi',
  targets: [
    { portal: '10.0.0.1:3260', iqn: 'iqn.2010-10.org.openstack:volume-v1', lun: 1 },
    { portal: '10.0.0.2:3260', iqn: 'iqn.2010-10.org.openstack:volume-v1', lun: 1 },
  ],
  multipath: true,
  auth: { method: 'CHAP', username: 'u1', password: 'Chap-Planted-91x' },
  discoveryAuth: { method: 'CHAP', username: 'd1', password: 'Disc-Planted-22y' },
  accessMode: 'rw',
};

describe('publish context', () => {
  it('carries no secret in clear and round-trips for the right node and volume', () => {
    const ctx = encodePublishContext(iscsi, 'att-1', 'vol-1', nodeA.publicKey);
    const all = JSON.stringify(ctx);
    expect(all).not.toContain('Chap-Planted-91x');
    expect(all).not.toContain('Disc-Planted-22y');
    expect(all).toContain('10.0.0.2:3260');
    expect(decodePublishContext(ctx, 'vol-1', nodeA)).toEqual({ connection: iscsi, attachmentId: 'att-1' });
  });

  it('cannot be opened by another node or for another volume', () => {
    const ctx = encodePublishContext(iscsi, 'att-1', 'vol-1', nodeA.publicKey);
    expect(() => decodePublishContext(ctx, 'vol-1', nodeB)).toThrow(/another node/);
    expect(() => decodePublishContext(ctx, 'vol-2', nodeA)).toThrow(/cannot be opened/);
  });

  it('needs no seal without secrets and validates the readable part', () => {
    const local: ConnectionData = { type: 'local', devicePath: '/var/lib/x/vol', accessMode: 'ro' };
    const ctx = encodePublishContext(local, 'att-2', 'vol-2', nodeA.publicKey);
    expect(ctx.sealed).toBeUndefined();
    expect(decodePublishContext(ctx, 'vol-2', nodeA).connection).toEqual(local);
    expect(() => decodePublishContext({}, 'v', nodeA)).toThrow(/connection is required/);
    expect(() => decodePublishContext({ connection: '{"type":"nvme","accessMode":"rw"}' }, 'v', nodeA)).toThrow(/connection\.type/);
    expect(() =>
      decodePublishContext({ connection: '{"type":"local","accessMode":"rw","devicePath":"/a/../etc"}' }, 'v', nodeA),
    ).toThrow(/devicePath/);
    const noSeal = { ...encodePublishContext(iscsi, 'a', 'v', nodeA.publicKey) };
    delete noSeal.sealed;
    expect(() => decodePublishContext(noSeal, 'v', nodeA)).toThrow(/uses CHAP/);
  });

  it('stays under 4 KiB for a multipath CHAP target', () => {
    const ctx = encodePublishContext(iscsi, 'att-1', 'vol-1', nodeA.publicKey);
    const size = Object.entries(ctx).reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(size).toBeLessThan(4096);
  });
});
