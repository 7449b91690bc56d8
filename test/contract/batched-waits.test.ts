import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVolumeWaiter, HttpCinderClient, type Volume, type WaitResult } from '../../src/cinder/index.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';

/**
 * 200 concurrent waits against the emulator with slow transitions: the batched waiter must cost
 * about one list request per tick (two while deletes are followed: the deleting list and the
 * changes list), not one GET per volume per tick. Emulator only (it counts the
 * requests per route and makes every transition take `delayMs`).
 */
const N = 200;
const DELAY_MS = 1500;

describe('batched waits (emulator only: needs request counters and slow transitions)', () => {
  let emu: RunningEmulator;
  let client: HttpCinderClient;

  beforeAll(async () => {
    emu = await startEmulator({ delayMs: DELAY_MS, quotas: { volumes: -1, gigabytes: -1, snapshots: -1 } });
    client = new HttpCinderClient({ authStrategy: 'noauth', cinderEndpoint: emu.cinderEndpoint });
    await client.features();
  });

  afterAll(async () => {
    client?.close();
    await emu?.stop();
  });

  it(`${N} concurrent waits share one list call per tick, for creates and for deletes`, async () => {
    const vols: Volume[] = [];
    for (let i = 0; i < N; i += 50) {
      vols.push(...(await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, j) => client.createVolume({ name: `bw-${i + j}`, size: 1 })))));
    }
    expect(vols.every((v) => v.status === 'creating')).toBe(true);

    emu.resetStats();
    const waiter = createVolumeWaiter(client, { minIntervalMs: 150, maxIntervalMs: 1000 });
    const deadline = Date.now() + 30_000;
    const started = Date.now();
    // As the controller does: each wait starts from the state the POST answered.
    const results = await Promise.all(vols.map((v) => waiter.waitFor(v.id, { current: v, until: (x) => (x.status === 'available' ? 'done' : 'pending'), deadline })));
    const took = Date.now() - started;
    const created = summarize(emu, waiter.stats());
    expect(results.every((r: WaitResult<Volume>) => r.outcome === 'done')).toBe(true);
    expect(waiter.active()).toBe(false);

    emu.resetStats();
    await Promise.all(vols.map((v) => client.deleteVolume(v.id)));
    const deleteWaiter = createVolumeWaiter(client, { minIntervalMs: 150, maxIntervalMs: 1000 });
    const gone = await Promise.all(vols.map((v) => deleteWaiter.waitFor(v.id, { current: { ...v, status: 'deleting' }, until: () => 'pending', deadline: Date.now() + 30_000 })));
    const deleted = summarize(emu, deleteWaiter.stats());
    expect(gone.every((r) => r.outcome === 'gone')).toBe(true);

    console.log(
      `[contract batched waits] ${N} creates: ${created.ticks} ticks, ${created.listRequests} list requests (${created.perTick.toFixed(2)}/tick), ${created.gets} GETs, done in ${took} ms; ` +
        `${N} deletes: ${deleted.ticks} ticks, ${deleted.listRequests} list requests (${deleted.perTick.toFixed(2)}/tick), ${deleted.gets} GETs`,
    );
    for (const s of [created, deleted]) {
      expect(s.ticks).toBeGreaterThan(0);
      expect(s.perTick).toBeLessThanOrEqual(2);
      expect(s.gets).toBe(0);
      // one tick per adaptive interval while the transitions take DELAY_MS: a handful, not N
      expect(s.ticks).toBeLessThan(20);
    }
  });
});

function summarize(emu: RunningEmulator, stats: { ticks: number }) {
  const req = emu.stats().requests;
  const listRequests = req['GET /volumes/detail'] ?? 0;
  return { ticks: stats.ticks, listRequests, perTick: listRequests / Math.max(1, stats.ticks), gets: req['GET /volumes/{id}'] ?? 0 };
}
