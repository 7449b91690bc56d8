import { join } from 'node:path';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { call, capability, epochMs, GiB, requestLog, sleep, startBenchEmulator, summarize, transitionAt, type Driver, type Summary } from './lib.js';
import { countTicks, type TickFigures } from './ticks.js';

/**
 * B9, project size: 100 concurrent CreateVolume (Cinder delay 2 s) in a project that already
 * holds `seeded` unrelated volumes (other tenants' tooling). `maxMicroversion: '3.59'` makes the
 * emulator a Cinder without the updated_at filters, so the same driver falls back to walking the
 * whole project each tick: that is the baseline (the driver's behaviour before the filters).
 */
export interface B9Scenario {
  label: string;
  seeded: number;
  maxMicroversion?: string;
}

export interface B9Result {
  scenario: B9Scenario;
  ticks: TickFigures;
  overhead: Summary;
  wallMs: number;
  retries: number;
}

export const B9_CREATES = 100;
const DELAY_MS = 2000;

export async function runB9(
  dir: string,
  controllerFor: (emu: RunningEmulator, name: string) => Promise<Driver>,
  sc: B9Scenario,
): Promise<B9Result> {
  const tag = `b9-${sc.seeded}-${sc.maxMicroversion ?? 'latest'}`;
  const seed = sc.seeded > 0 ? { count: sc.seeded, namePrefix: 'other-tenant-tool', metadata: { owner: 'someone-else' } } : undefined;
  const emu = await startBenchEmulator(DELAY_MS, join(dir, `emu-${tag}`), sc.maxMicroversion, seed);
  try {
    const ctl = await controllerFor(emu, `ctl-${tag}`);
    try {
      await call(ctl.clients.controller, 'CreateVolume', { name: `${tag}-warmup`, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [capability()], parameters: {} });
      await sleep(300);
      const t0 = epochMs();
      let retries = 0;
      const results = await Promise.all(
        Array.from({ length: B9_CREATES }, async (_, i) => {
          const r = await call<{ volume: { volume_id: string } }>(
            ctl.clients.controller,
            'CreateVolume',
            { name: `${tag}-${i}`, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [capability()], parameters: {} },
            60_000,
          );
          retries += r.retries;
          return { id: r.res.volume.volume_id, end: r.end };
        }),
      );
      const t1 = epochMs();
      const st = emu.stats();
      const overhead = summarize(results.map((r) => r.end - (transitionAt(st, r.id, 'available') ?? NaN)));
      return { scenario: sc, ticks: countTicks(requestLog, t0, t1), overhead, wallMs: t1 - t0, retries };
    } finally {
      await ctl.stop();
    }
  } finally {
    await emu.stop();
  }
}
