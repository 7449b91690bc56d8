import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatNodeId } from '../node-id.js';
import { generateNodeKeyPair } from '../../util/seal.js';
import {
  attachmentsToRemove,
  encodeNodeRecord,
  holders,
  nodeRecordKey,
  planAttachments,
  publishedNodeIds,
  readNodeRecords,
  type NodeRecord,
} from './attachments.js';

const done = (attachmentId: string, hostName?: string) => ({ attachmentId, ...(hostName ? { hostName } : {}) });
const att = (id: string, status: string, hostName?: string) => ({ id, status, ...(hostName ? { hostName } : {}) });
const key = generateNodeKeyPair().publicKey;
const nodeId = (name: string) => formatNodeId({ nodeName: name, ip: '10.0.0.1', publicKey: key });
/** Records as publish writes them: node → attachment. */
function records(pairs: Record<string, string>): Map<string, NodeRecord> {
  const meta: Record<string, string> = {};
  for (const [node, attachmentId] of Object.entries(pairs)) meta[nodeRecordKey(node)] = encodeNodeRecord(attachmentId, nodeId(node));
  return readNodeRecords(meta);
}
const none = new Map<string, NodeRecord>();

describe('matching attachments to nodes', () => {
  describe('with host names (admin view)', () => {
    it('reuses this node’s completed attachment', () => {
      expect(planAttachments('a', [done('1', 'a')], [att('1', 'attached')], none)).toEqual({ reuse: '1', cleanup: [], otherNodes: [] });
    });
    it('never hands node B the attachment of node A', () => {
      const plan = planAttachments('b', [done('1', 'a')], [att('1', 'attached')], none);
      expect(plan).toEqual({ cleanup: [], otherNodes: ['a'] });
    });
    it('replaces this node’s attachment that is detaching instead of reusing it', () => {
      expect(planAttachments('a', [done('1', 'a')], [att('1', 'detaching')], none)).toEqual({ cleanup: ['1'], otherNodes: [] });
    });
  });

  describe('without host names (Cinder hides them from project members)', () => {
    it('owns completed attachments through the records', () => {
      const recs = records({ a: '1', b: '2' });
      expect(planAttachments('a', [done('1'), done('2')], [att('1', 'attached'), att('2', 'attached')], recs)).toEqual({
        reuse: '1',
        cleanup: [],
        otherNodes: ['b'],
      });
    });
    it('a completed attachment nobody recorded holds the volume for an unknown host', () => {
      expect(planAttachments('a', [done('9')], undefined, none)).toEqual({ cleanup: [], otherNodes: ['an unknown host'] });
    });
    it('incomplete: unrecorded → stale leftover; recorded for this node → replaced; for another → held', () => {
      const recs = records({ a: '2', b: '3' });
      const plan = planAttachments('a', [], [att('1', 'reserved'), att('2', 'attaching'), att('3', 'attaching'), att('4', 'error_attaching')], recs);
      expect(plan.cleanup.sort()).toEqual(['1', '2', '4']);
      expect(plan.otherNodes).toEqual(['b']);
    });
  });

  it('unpublish removes only this node’s attachments and unowned leftovers', () => {
    const recs = records({ a: '1', b: '2' });
    const completed = [done('1'), done('2')];
    const all = [att('1', 'attached'), att('2', 'attached'), att('3', 'reserved'), att('4', 'attaching', 'b'), att('5', 'attaching', 'a'), att('6', 'detaching')];
    expect(attachmentsToRemove('a', completed, all, recs).sort()).toEqual(['1', '3', '5']);
    expect(attachmentsToRemove('b', completed, all, recs).sort()).toEqual(['2', '3', '4']);
    expect(attachmentsToRemove(undefined, completed, all, recs).sort()).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(attachmentsToRemove('c', completed, undefined, recs)).toEqual([]);
  });

  it('keeps metadata keys and values within Cinder’s 255 characters', () => {
    expect(nodeRecordKey('worker-1')).toBe('cinder.metal.csi.kungze.io/node/worker-1');
    const long = `${'a'.repeat(230)}.example.com`;
    expect(nodeRecordKey(long).length).toBeLessThanOrEqual(255);
    expect(nodeRecordKey(long)).toMatch(/sha256-[0-9a-f]{40}$/);
    const biggest = formatNodeId({ nodeName: 'n'.repeat(100), ip: 'fd00::17', iqn: 'iqn.2004-10.com.ubuntu:01:abcdef', publicKey: key });
    expect(encodeNodeRecord(randomUUID(), biggest).length).toBeLessThanOrEqual(255);
  });

  it('reads back records, ignoring blanked and damaged ones', () => {
    const meta = {
      [nodeRecordKey('a')]: encodeNodeRecord('1', nodeId('a')),
      [nodeRecordKey('b')]: '',
      [nodeRecordKey('c')]: 'garbage',
      [nodeRecordKey('d')]: encodeNodeRecord('4', nodeId('e')),
      other: 'x',
    };
    expect([...readNodeRecords(meta).keys()]).toEqual(['a']);
  });

  it('reports the node ids the CO used for holders of completed attachments', () => {
    const recs = records({ a: '1', b: '2', c: '3' });
    expect(publishedNodeIds([done('1')], recs)).toEqual([nodeId('a')]);
    expect(publishedNodeIds([done('1'), done('2', 'b')], recs)).toEqual([nodeId('a'), nodeId('b')].sort());
    expect(publishedNodeIds([done('9')], recs)).toEqual([]);
    expect(publishedNodeIds([done('1')], none)).toEqual([]);
    // records outlive their attachments (unpublish leaves them): a stale one names nobody
    expect(publishedNodeIds([done('8', 'a')], recs)).toEqual([]);
    expect(planAttachments('a', [done('8')], undefined, recs)).toEqual({ cleanup: [], otherNodes: ['an unknown host'] });
    expect(holders([done('1'), done('9')], recs)).toEqual(['a', 'an unknown host']);
  });
});
