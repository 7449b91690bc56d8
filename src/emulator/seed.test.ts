import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cinder, emulator } from '../../test/helpers/emulator-http.js';
import type { RunningEmulator } from './types.js';

let emu: RunningEmulator;
let cinder: Cinder;
let startMs: number;

beforeAll(async () => {
  const t0 = performance.now();
  ({ emu, cinder } = await emulator({ quotas: { volumes: -1, gigabytes: -1 }, seedVolumes: { count: 5000, namePrefix: 'tool', metadata: { owner: 'someone-else' } } }));
  startMs = performance.now() - t0;
});
afterAll(() => emu.stop());

describe('seedVolumes', () => {
  it('adds thousands of old, available volumes at once, that the updated_at filter leaves out', async () => {
    expect(startMs).toBeLessThan(5000);
    const ids = new Set<string>();
    for (let marker = ''; ; ) {
      const { volumes } = (await cinder.get(`/volumes?limit=1000${marker ? `&marker=${marker}` : ''}`)).body as { volumes: { id: string }[] };
      if (volumes.length === 0) break;
      for (const v of volumes) ids.add(v.id);
      marker = volumes.at(-1)?.id ?? '';
    }
    expect(ids.size).toBe(5000);
    const page = await cinder.get('/volumes/detail?limit=1000');
    expect(page.body.volumes).toHaveLength(1000);
    expect(page.body.volumes[0]).toMatchObject({ status: 'available', metadata: { owner: 'someone-else' }, attachments: [] });
    const fresh = await cinder.volume({ name: 'mine' });
    const since = new Date(Date.now() - 60_000).toISOString();
    const changed = await cinder.at('3.60').get(`/volumes?updated_at=gte:${since}`);
    // only ours: it became available just now, the seeded ones were last touched an hour ago
    expect(changed.body.volumes.map((v: { id: string }) => v.id)).toEqual([fresh]);
  });
});
