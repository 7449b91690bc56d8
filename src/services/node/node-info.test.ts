import { describe, expect, it } from 'vitest';
import { DriverError } from '../../util/errors.js';
import { generateNodeKeyPair } from '../../util/seal.js';
import { parseNodeId } from '../node-id.js';
import { makeNodeId, nodeGetInfo } from './node-info.js';

const key = generateNodeKeyPair().publicKey;

describe('NodeGetInfo', () => {
  it('returns a node id that round-trips, with limit and zone', () => {
    const id = makeNodeId({ nodeName: 'worker-1', ip: '10.0.0.5', iqn: 'iqn.1993-08.org.debian:01:abc', publicKey: key });
    const res = nodeGetInfo(id, { maxVolumesPerNode: 24, zone: 'az-1' });
    expect(parseNodeId(res.nodeId)).toEqual({ nodeName: 'worker-1', ip: '10.0.0.5', iqn: 'iqn.1993-08.org.debian:01:abc', publicKey: key });
    expect(res.maxVolumesPerNode).toBe(24);
    expect(res.zone).toBe('az-1');
  });

  it('omits the limit and topology when not configured', () => {
    const res = nodeGetInfo(makeNodeId({ nodeName: 'n', ip: '::1', publicKey: key }), {});
    expect(res.maxVolumesPerNode).toBeUndefined();
    expect(res.zone).toBeUndefined();
    expect(nodeGetInfo(makeNodeId({ nodeName: 'n', ip: '::1', publicKey: key }), { maxVolumesPerNode: 0 }).maxVolumesPerNode).toBeUndefined();
  });

  it('fails with a clear message when the node id would exceed 192 bytes', () => {
    const long = `iqn.2004-10.com.example:${'x'.repeat(140)}`;
    const id = makeNodeId({ nodeName: 'worker-with-a-long-name', ip: '192.168.100.200', iqn: long, publicKey: key });
    expect(id.ok).toBe(false);
    let err: unknown;
    try {
      nodeGetInfo(id, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DriverError);
    expect((err as DriverError).kind).toBe('precondition');
    expect((err as DriverError).message).toMatch(/over the 192-byte limit/);
  });

  it('just fits at 192 bytes', () => {
    const fixed = `v1;n;1.2.3.4;;${key}`.length; // everything except the IQN body
    const prefix = 'iqn.2004-10.com.example:';
    const iqn = prefix + 'y'.repeat(192 - fixed - prefix.length);
    const id = makeNodeId({ nodeName: 'n', ip: '1.2.3.4', iqn, publicKey: key });
    expect(id.ok && Buffer.byteLength(id.nodeId)).toBe(192);
    expect(makeNodeId({ nodeName: 'n', ip: '1.2.3.4', iqn: `${iqn}y`, publicKey: key }).ok).toBe(false);
  });
});
