import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log/logger.js';
import type { NodeOperations } from '../services/node/index.js';
import type { StageRequest } from '../services/node/requests.js';
import { TOPOLOGY_ZONE_KEY } from '../util/package-info.js';
import { nodeRpcs } from './node.js';

const ctx = { requestId: 't', signal: new AbortController().signal, log: silentLogger() };
const never = (): Promise<never> => Promise.reject(new Error('not called'));

function operations(over: Partial<NodeOperations>): NodeOperations {
  return { info: () => ({ nodeId: 'n' }), stage: never, unstage: never, publish: never, unpublish: never, stats: never, expand: never, ...over };
}

describe('the Node service edge', () => {
  it('answers NodeGetInfo with the limit as int64 and the zone as topology', async () => {
    const rpcs = nodeRpcs(operations({ info: () => ({ nodeId: 'n1', maxVolumesPerNode: 24, zone: 'az-1' }) }));
    expect(await rpcs.NodeGetInfo({}, ctx)).toEqual({ node_id: 'n1', max_volumes_per_node: '24', accessible_topology: { segments: { [TOPOLOGY_ZONE_KEY]: 'az-1' } } });
    expect(await nodeRpcs(operations({})).NodeGetInfo({}, ctx)).toEqual({ node_id: 'n' });
  });

  it('reports usage counts as int64 strings and leaves out what the node could not tell', async () => {
    const rpcs = nodeRpcs(
      operations({
        stats: () =>
          Promise.resolve({
            usage: [
              { unit: 'BYTES', total: 2 ** 40, available: 5, used: 7 },
              { unit: 'INODES', total: 9 },
            ],
            condition: { abnormal: true, message: 'gone' },
          }),
      }),
    );
    const res = await rpcs.NodeGetVolumeStats({ volume_id: 'v', volume_path: '/p', staging_target_path: '' }, ctx);
    expect(res).toEqual({
      usage: [
        { unit: 'BYTES', total: '1099511627776', available: '5', used: '7' },
        { unit: 'INODES', total: '9' },
      ],
      volume_condition: { abnormal: true, message: 'gone' },
    });
  });

  it('validates before the service sees the request: a bad field never reaches it', async () => {
    let seen: StageRequest | undefined;
    const rpcs = nodeRpcs(operations({ stage: (req) => ((seen = req), Promise.resolve()) }));
    await expect(rpcs.NodeStageVolume({ volume_id: '', staging_target_path: '/s' } as never, ctx)).rejects.toMatchObject({ kind: 'invalid', message: 'volume_id is required' });
    expect(seen).toBeUndefined();
    const cap = { access_type: 'block', block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } };
    expect(await rpcs.NodeStageVolume({ volume_id: 'v', staging_target_path: '/s', volume_capability: cap } as never, ctx)).toEqual({});
    expect(seen).toMatchObject({ volumeId: 'v', stagingTargetPath: '/s', capability: { accessType: 'block', readOnly: false } });
  });

  it('answers NodeExpandVolume with the size as int64', async () => {
    const rpcs = nodeRpcs(operations({ expand: () => Promise.resolve({ capacityBytes: 3 * 2 ** 30 }) }));
    expect(await rpcs.NodeExpandVolume({ volume_id: 'v', volume_path: '/p' } as never, ctx)).toEqual({ capacity_bytes: '3221225472' });
  });
});
