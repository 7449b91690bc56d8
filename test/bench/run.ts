/**
 * `npm run bench`: the performance figures B1–B9 (see test/bench/README.md), each next to a
 * baseline measured in the same run, against the embedded emulator and real loop devices.
 * Writes bench-results.json and bench-results.svg in the package root. Needs root (loop devices).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/util/package-info.js';
import type { EmulatorStats, RunningEmulator } from '../../src/emulator/index.js';
import {
  call,
  capability,
  cpuSeconds,
  epochMs,
  GiB,
  installRequestRecorder,
  memMiB,
  pool,
  requestLog,
  sleep,
  spawnBenchDriver,
  startBenchEmulator,
  summarize,
  timeCommand,
  transitionAt,
  writeCloudConf,
  type Driver,
  type Summary,
} from './lib.js';
import { B9_CREATES, runB9, type B9Result } from './b9.js';
import { renderSvg } from './svg.js';
import { countTicks } from './ticks.js';

interface Row {
  id: string;
  figure: string;
  value: string;
  baseline: string;
  target: string;
  verdict: 'PASS' | 'MISS' | 'INFO';
}

const rows: Row[] = [];
const json: Record<string, unknown> = { startedAt: new Date().toISOString() };
const distributions: Array<{ label: string; values: number[] }> = [];
const wallStart = performance.now();

const f = (x: number, d = 0): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const ms = (s: Summary): string => `p50 ${f(s.p50)} ms, p99 ${f(s.p99)} ms (n=${s.n})`;
function progress(msg: string): void {
  process.stdout.write(`[bench +${f((performance.now() - wallStart) / 1000, 1)}s] ${msg}\n`);
}
function row(r: Row): void {
  rows.push(r);
  progress(`${r.id} ${r.figure}: ${r.value} | baseline ${r.baseline} | target ${r.target} → ${r.verdict}`);
}

const dir = await mkdtemp(join(tmpdir(), 'cmc-bench-'));
const kubeletDir = join(dir, 'kubelet');
await mkdir(kubeletDir, { recursive: true });
installRequestRecorder();
const cleanups: Array<() => Promise<unknown>> = [];

async function controllerFor(emu: RunningEmulator, name: string): Promise<Driver> {
  const conf = await writeCloudConf(dir, emu);
  const d = await spawnBenchDriver(['--mode', 'controller', '--cloud-config', conf, '--state-dir', join(dir, `${name}-state`), '--connector-registry', `dir:${join(dir, 'connectors')}`], join(dir, `${name}.sock`));
  cleanups.push(() => d.stop());
  return d;
}

function nodeArgs(name: string): string[] {
  return ['--mode', 'node', '--node-name', name, '--node-ip', '127.0.0.1', '--kubelet-dir', kubeletDir, '--state-dir', join(dir, `${name}-state`), '--connector-registry', `dir:${join(dir, 'connectors')}`, '--multipath', 'off', '--log-level', 'warn'];
}

try {
  // ------------------------------------------------------------------ B6 / B7 (idle machine)
  progress('B6: spawn → first Probe (node mode), 10 samples, vs bare `node -e 0`');
  const spawnMs: number[] = [];
  const nodeIdleRss: number[] = [];
  for (let i = 0; i < 10; i++) {
    // One state dir for all samples: the first start makes the node key pair, restarts reuse it.
    const d = await spawnBenchDriver(nodeArgs('probe'), join(dir, `probe-${i}.sock`));
    spawnMs.push(d.readyMs);
    if (i === 0) {
      await sleep(1000);
      nodeIdleRss.push(memMiB(d.pid).rss);
    }
    await d.stop();
  }
  const bareMs: number[] = [];
  for (let i = 0; i < 10; i++) bareMs.push(await timeCommand(process.execPath, ['-e', '0']));
  const b6 = summarize(spawnMs);
  const b6base = summarize(bareMs);
  json.B6 = { driver: b6, bareNode: b6base, samples: spawnMs, firstStartWithKeyGenerationMs: spawnMs[0] };
  row({ id: 'B6', figure: 'spawn → first Probe (node mode)', value: ms(b6), baseline: `bare node -e 0: p50 ${f(b6base.p50)} ms`, target: 'p50 ≤ 300 ms', verdict: b6.p50 <= 300 ? 'PASS' : 'MISS' });

  // Baseline of B7: a bare grpc-js server (no services) on a unix socket.
  const grpcSock = join(dir, 'bare-grpc.sock');
  const bare = await spawnBareGrpc(grpcSock);
  await sleep(1000);
  const bareRss = memMiB(bare.pid).rss;
  bare.kill();

  // A long-lived node plugin for B2 (its node id) and B5 (stage/unstage).
  const node = await spawnBenchDriver(nodeArgs('bench-node'), join(dir, 'bench-node.sock'));
  cleanups.push(() => node.stop());
  const nodeId = (await call<{ node_id: string }>(node.clients.node, 'NodeGetInfo', {})).res.node_id;

  // ------------------------------------------------------------------ B1 / B2 / B8
  const phases = [
    { delay: 500, samples: 60, workers: 6, b2: true },
    { delay: 2000, samples: 40, workers: 10, b2: true },
    { delay: 10_000, samples: 20, workers: 20, b2: false },
  ];
  const b8: Record<string, unknown> = {};
  const b2all: Record<string, number[]> = { expand: [], snapshot: [], publish: [] };
  for (const ph of phases) {
    progress(`B1${ph.b2 ? '+B2' : ''}: delay ${ph.delay} ms, ${ph.samples} samples, ${ph.workers} concurrent workers`);
    const emu = await startBenchEmulator(ph.delay, join(dir, `emu-${ph.delay}`));
    cleanups.push(() => emu.stop());
    const ctl = await controllerFor(emu, `ctl-${ph.delay}`);
    let retries = 0;
    const samples = await pool(ph.samples, ph.workers, ph.delay, async (i) => {
      const create = await call<{ volume: { volume_id: string } }>(
        ctl.clients.controller,
        'CreateVolume',
        { name: `b1-${ph.delay}-${i}`, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [capability()], parameters: {} },
      );
      retries += create.retries;
      const id = create.res.volume.volume_id;
      const s: { id: string; createEnd: number; expand?: [number, number]; snap?: [string, number]; publish?: [number, number] } = { id, createEnd: create.end };
      if (ph.b2) {
        const t1 = epochMs();
        const e = await call(ctl.clients.controller, 'ControllerExpandVolume', { volume_id: id, capacity_range: { required_bytes: String(2 * GiB) }, volume_capability: capability() });
        s.expand = [t1, e.end];
        const sn = await call<{ snapshot: { snapshot_id: string } }>(ctl.clients.controller, 'CreateSnapshot', { source_volume_id: id, name: `b2-snap-${ph.delay}-${i}` });
        s.snap = [sn.res.snapshot.snapshot_id, sn.end];
        const t3 = epochMs();
        const p = await call(ctl.clients.controller, 'ControllerPublishVolume', { volume_id: id, node_id: nodeId, volume_capability: capability(), readonly: false });
        s.publish = [t3, p.end];
        retries += e.retries + sn.retries + p.retries;
      }
      return s;
    });
    const st = emu.stats();
    const create: number[] = [];
    const fromCreation: number[] = [];
    for (const s of samples) {
      const avail = transitionAt(st, s.id, 'available');
      const born = st.transitions[s.id]?.[0]?.at;
      if (avail === undefined || born === undefined) throw new Error(`no available transition for ${s.id}`);
      create.push(s.createEnd - avail);
      fromCreation.push(avail - born);
      if (s.expand) b2all.expand?.push(s.expand[1] - lastTransition(st, s.id, s.expand[0], s.expand[1]));
      if (s.snap) {
        const sa = transitionAt(st, s.snap[0], 'available');
        if (sa !== undefined) b2all.snapshot?.push(s.snap[1] - sa);
      }
      if (s.publish) b2all.publish?.push(s.publish[1] - lastTransition(st, s.id, s.publish[0], s.publish[1]));
    }
    const sum = summarize(create);
    distributions.push({ label: `B1 create @${ph.delay / 1000}s`, values: create });
    row({
      id: 'B1',
      figure: `CreateVolume overhead @ delay ${ph.delay / 1000} s`,
      value: `${ms(sum)}${retries ? `, ${retries} ABORTED retries` : ''}`,
      baseline: `emulator available-transition (median ${f(summarize(fromCreation).p50)} ms after creation)`,
      target: 'p50 ≤ 100, p99 ≤ 300 ms, n ≥ 20',
      verdict: sum.p50 <= 100 && sum.p99 <= 300 && sum.n >= 20 ? 'PASS' : 'MISS',
    });
    // B8: the same transitions replayed through other drivers' polling schedules.
    const anchors = {
      'fixed 1 s': schedule(1000, 1),
      '1 s × 1.1 back-off': schedule(1000, 1.1),
      '1 s × 1.2 back-off': schedule(1000, 1.2),
    };
    const b8phase: Record<string, unknown> = { ours: sum };
    for (const [name, polls] of Object.entries(anchors)) {
      const theirs = summarize(fromCreation.map((t) => (polls.find((p) => p >= t) ?? NaN) - t));
      b8phase[name] = theirs;
      row({
        id: 'B8',
        figure: `@ ${ph.delay / 1000} s: ours vs ${name} polling`,
        value: `ours p50 ${f(sum.p50)} ms = ${f(sum.p50 / theirs.p50, 2)}× theirs`,
        baseline: `${name}: p50 ${f(theirs.p50)} ms, p99 ${f(theirs.p99)} ms`,
        target: 'ratio < 1',
        verdict: sum.p50 < theirs.p50 ? 'PASS' : 'MISS',
      });
    }
    b8[`${ph.delay}`] = b8phase;
    (json.B1 ??= {} as Record<string, unknown>) as Record<string, unknown>;
    (json.B1 as Record<string, unknown>)[`${ph.delay}`] = { overhead: sum, availableAfterCreation: summarize(fromCreation), abortedRetries: retries, samples: create };
    await ctl.stop();
    await emu.stop();
  }
  json.B8 = b8;
  json.B2 = {};
  for (const [op, xs] of Object.entries(b2all)) {
    const s = summarize(xs);
    (json.B2 as Record<string, unknown>)[op] = { overhead: s, samples: xs };
    distributions.push({ label: `B2 ${op}`, values: xs });
    row({
      id: 'B2',
      figure: `${op} overhead (delays 0.5 + 2 s)`,
      value: ms(s),
      baseline: op === 'publish' ? "emulator's last volume transition in the call (attach is synchronous)" : 'emulator available-transition',
      target: 'p50 ≤ 100 ms',
      verdict: s.p50 <= 100 ? 'PASS' : 'MISS',
    });
  }

  // ------------------------------------------------------------------ B3 and B5 (delay 0)
  progress('B3: Cinder requests per RPC at steady state (delay 0, 5 iterations after a warm-up)');
  const emu0 = await startBenchEmulator(0, join(dir, 'emu-0'));
  cleanups.push(() => emu0.stop());
  const ctl0 = await controllerFor(emu0, 'ctl-0');
  const counts: Record<string, number[]> = { CreateVolume: [], ControllerPublishVolume: [], ControllerUnpublishVolume: [], DeleteVolume: [] };
  const routes: Record<string, Record<string, number>> = {};
  for (let it = 0; it <= 5; it++) {
    let volId = '';
    let volumeContext: Record<string, string> = {};
    const ops: Array<[string, () => Promise<unknown>]> = [
      ['CreateVolume', async () => {
        const v = (await call<{ volume: { volume_id: string; volume_context?: Record<string, string> } }>(ctl0.clients.controller, 'CreateVolume', { name: `b3-${it}`, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [capability()], parameters: {} })).res.volume;
        volId = v.volume_id;
        volumeContext = v.volume_context ?? {};
      }],
      // As the external-attacher does: the PV's volumeAttributes (CreateVolume's volume_context) travel along.
      ['ControllerPublishVolume', () => call(ctl0.clients.controller, 'ControllerPublishVolume', { volume_id: volId, node_id: nodeId, volume_capability: capability(), readonly: false, volume_context: volumeContext })],
      ['ControllerUnpublishVolume', () => call(ctl0.clients.controller, 'ControllerUnpublishVolume', { volume_id: volId, node_id: nodeId })],
      ['DeleteVolume', () => call(ctl0.clients.controller, 'DeleteVolume', { volume_id: volId })],
    ];
    for (const [op, fn] of ops) {
      emu0.resetStats();
      await fn();
      const st = emu0.stats();
      const n = Object.values(st.requests).reduce((a, b) => a + b, 0);
      if (it > 0) {
        counts[op]?.push(n);
        routes[op] = st.requests;
      }
    }
  }
  const minimum: Record<string, [number, number, string]> = {
    CreateVolume: [3, 2, 'POST /volumes + 1 status read (the POST answers "creating")'],
    ControllerPublishVolume: [3, 2, 'POST /attachments with the connector + os-complete'],
    ControllerUnpublishVolume: [2, 1, 'DELETE /attachments/{id}'],
    DeleteVolume: [2, 1, 'DELETE /volumes/{id}'],
  };
  json.B3 = { counts, routesOfLastIteration: routes, minimum };
  for (const [op, xs] of Object.entries(counts)) {
    const [target, min, why] = minimum[op] as [number, number, string];
    const med = summarize(xs).p50;
    row({
      id: 'B3',
      figure: `Cinder requests per ${op}`,
      value: `${med} (${Object.entries(routes[op] ?? {}).map(([k, v]) => `${k}×${v}`).join(', ')})`,
      baseline: `API minimum ${min}: ${why}`,
      target: `≤ ${target}`,
      verdict: med <= target ? 'PASS' : 'MISS',
    });
  }

  progress('B5: NodeStage/NodeUnstage on 1 GiB loop devices vs the same commands in bash, 5 samples per fs');
  json.B5 = {};
  for (const fsType of ['ext4', 'xfs'] as const) {
    const drvStage: number[] = [];
    const drvUnstage: number[] = [];
    const shStage: number[] = [];
    const shUnstage: number[] = [];
    for (let i = 0; i < 5; i++) {
      const cap = capability(fsType);
      const vol = (await call<{ volume: { volume_id: string } }>(ctl0.clients.controller, 'CreateVolume', { name: `b5-${fsType}-${i}`, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [cap], parameters: {} })).res.volume.volume_id;
      const pub = await call<{ publish_context: Record<string, string> }>(ctl0.clients.controller, 'ControllerPublishVolume', { volume_id: vol, node_id: nodeId, volume_capability: cap, readonly: false });
      const staging = join(kubeletDir, 'plugins', 'kubernetes.io', 'csi', 'cinder.metal.csi.kungze.io', `b5-${fsType}-${i}`, 'globalmount');
      await mkdir(staging, { recursive: true });
      let t = performance.now();
      await call(node.clients.node, 'NodeStageVolume', { volume_id: vol, publish_context: pub.res.publish_context, staging_target_path: staging, volume_capability: cap });
      drvStage.push(performance.now() - t);
      t = performance.now();
      await call(node.clients.node, 'NodeUnstageVolume', { volume_id: vol, staging_target_path: staging });
      drvUnstage.push(performance.now() - t);
      await call(ctl0.clients.controller, 'ControllerUnpublishVolume', { volume_id: vol, node_id: nodeId });
      await call(ctl0.clients.controller, 'DeleteVolume', { volume_id: vol });

      // The same steps by hand: losetup, blkid (no signature: exit 2), mkfs (the driver's flags), mount; umount, losetup -d.
      const img = join(dir, `sh-${fsType}-${i}.img`);
      const mnt = join(dir, `sh-${fsType}-${i}.mnt`);
      await timeCommand('truncate', ['-s', '1G', img]);
      await mkdir(mnt, { recursive: true });
      const mkfs = fsType === 'ext4' ? 'mkfs.ext4 -F -m0 -E nodiscard,lazy_itable_init=1,lazy_journal_init=1' : 'mkfs.xfs -K';
      const devFile = join(dir, `sh-${fsType}-${i}.dev`);
      shStage.push(await timeCommand('bash', ['-c', `set -e; dev=$(losetup -f --show ${img}); echo $dev > ${devFile}; blkid -p $dev || [ $? -eq 2 ]; ${mkfs} -q $dev >/dev/null 2>&1 || ${mkfs} $dev >/dev/null; mount -t ${fsType} -o nodiscard $dev ${mnt}`]));
      shUnstage.push(await timeCommand('bash', ['-c', `set -e; umount ${mnt}; losetup -d $(cat ${devFile})`]));
      await rm(img, { force: true });
    }
    for (const [what, d, s] of [['NodeStage', drvStage, shStage], ['NodeUnstage', drvUnstage, shUnstage]] as const) {
      const ds = summarize(d);
      const ss = summarize(s);
      (json.B5 as Record<string, unknown>)[`${what} ${fsType}`] = { driver: ds, shell: ss, ratio: ds.p50 / ss.p50 };
      row({
        id: 'B5',
        figure: `${what} ${fsType} (1 GiB loop)`,
        value: `p50 ${f(ds.p50)} ms = ${f(ds.p50 / ss.p50, 2)}× shell (p99 ${f(ds.p99)} ms, n=${ds.n})`,
        baseline: `bash script p50 ${f(ss.p50)} ms`,
        target: '≤ 1.5× shell',
        verdict: ds.p50 <= 1.5 * ss.p50 ? 'PASS' : 'MISS',
      });
    }
  }
  await ctl0.stop();
  await emu0.stop();

  // ------------------------------------------------------------------ B4 + B7
  progress('B4: 1,000 concurrent CreateVolume at delay 2 s against a spawned controller');
  const emu4 = await startBenchEmulator(2000, join(dir, 'emu-4'));
  cleanups.push(() => emu4.stop());
  const ctl4 = await controllerFor(emu4, 'ctl-4');
  await sleep(1000);
  const idleCtl = memMiB(ctl4.pid);
  // Warm-up: one volume, so the client's version discovery is cached (steady state).
  await call(ctl4.clients.controller, 'CreateVolume', { name: 'b4-warmup', capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [capability()], parameters: {} });
  await sleep(500);
  const N = 1000;
  const logStart = requestLog.length;
  const cpu0 = cpuSeconds(ctl4.pid);
  const benchCpu0 = process.cpuUsage();
  const t0 = epochMs();
  let b4retries = 0;
  const results = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const r = await call<{ volume: { volume_id: string } }>(ctl4.clients.controller, 'CreateVolume', { name: `b4-${i}`, capacity_range: { required_bytes: String(GiB) }, volume_capabilities: [capability()], parameters: {} }, 60_000);
      b4retries += r.retries;
      return { id: r.res.volume.volume_id, end: r.end };
    }),
  );
  const t1 = epochMs();
  const cpu = cpuSeconds(ctl4.pid) - cpu0;
  const benchCpuUsage = process.cpuUsage(benchCpu0);
  const benchCpu = (benchCpuUsage.user + benchCpuUsage.system) / 1e6;
  const peak = memMiB(ctl4.pid);
  const st4: EmulatorStats = emu4.stats();
  const created = Object.values(st4.transitions).filter((ts) => ts[0]?.kind === 'volume' && ts[0].from === null && ts[0].at >= t0).length;
  const uniqueIds = new Set(results.map((r) => r.id)).size;
  const duplicates = created - N + (N - uniqueIds);
  const over4 = results.map((r) => r.end - (transitionAt(st4, r.id, 'available') ?? NaN));
  const lastAvail = Math.max(...results.map((r) => transitionAt(st4, r.id, 'available') ?? NaN));
  const doneAfterDelay = t1 - t0 - 2000;
  const ticks = countTicks(requestLog.slice(logStart), t0, t1);
  const o4 = summarize(over4);
  distributions.push({ label: 'B4 1000× create @2s', values: over4 });
  json.B4 = { n: N, wallMs: t1 - t0, doneAfterDelayMs: doneAfterDelay, lastReturnAfterLastAvailableMs: t1 - lastAvail, overhead: o4, abortedRetries: b4retries, volumesCreated: created, uniqueIds, duplicates, cpuSeconds: cpu, benchProcessCpuSeconds: benchCpu, lastAvailableAfterStartMs: lastAvail - t0, ticks, emulatorRequests: st4.requests };
  const answeredAfterLast = t1 - lastAvail;
  row({ id: 'B4', figure: '1,000× CreateVolume: last answer after the last volume became available', value: `${f(answeredAfterLast)} ms (wall ${f(t1 - t0)} ms = delay + ${f(doneAfterDelay)} ms; last volume available at +${f(lastAvail - t0)} ms; per-call overhead ${ms(o4)}; ${b4retries} ABORTED retries)`, baseline: 'delay 2000 ms', target: '≤ 1000 ms', verdict: answeredAfterLast <= 1000 ? 'PASS' : 'MISS' });
  row({ id: 'B4', figure: 'duplicates', value: `${duplicates} (${created} volumes created, ${uniqueIds} distinct ids returned)`, baseline: `${N} requests`, target: '0', verdict: duplicates === 0 ? 'PASS' : 'MISS' });
  const posts = st4.requests['POST /volumes'] ?? 0;
  row({ id: 'B4', figure: 'Cinder requests for the burst', value: `${ticks.totalRequests} (${posts} POST /volumes; lookups: ${ticks.nameLookups} by name + ${ticks.clusterWalkPages} cluster-walk pages; waiter: ${ticks.ticks} ticks, max ${ticks.maxRequestsPerTick} requests/tick, ${f(ticks.meanBytesPerTick / 1024, 0)} KiB/tick)`, baseline: `${N} POSTs; before: 2,000 name lookups + 1 page walk per tick`, target: '≤ 1150', verdict: ticks.totalRequests <= 1150 ? 'PASS' : 'MISS' });
  row({ id: 'B4', figure: 'driver CPU for the burst (utime+stime)', value: `${f(cpu, 2)} core-s`, baseline: `${N} RPCs; bench process (emulator + client) used ${f(benchCpu, 2)} core-s`, target: '≤ 1.5 core-s', verdict: cpu <= 1.5 ? 'PASS' : 'MISS' });
  row({ id: 'B7', figure: 'idle RSS (controller / node)', value: `${f(idleCtl.rss, 1)} / ${f(nodeIdleRss[0] ?? NaN, 1)} MiB`, baseline: `bare grpc-js server ${f(bareRss, 1)} MiB`, target: '≤ 70 MiB each', verdict: Math.max(idleCtl.rss, nodeIdleRss[0] ?? 0) <= 70 ? 'PASS' : 'MISS' });
  row({ id: 'B7', figure: 'peak RSS (VmHWM) after B4', value: `${f(peak.hwm, 1)} MiB`, baseline: `bare grpc-js server ${f(bareRss, 1)} MiB`, target: '≤ 160 MiB', verdict: peak.hwm <= 160 ? 'PASS' : 'MISS' });
  json.B7 = { idleControllerMiB: idleCtl.rss, idleNodeMiB: nodeIdleRss[0], peakControllerHwmMiB: peak.hwm, bareGrpcServerMiB: bareRss };

  // ------------------------------------------------------------------ B9 project size
  progress(`B9: ${B9_CREATES} concurrent CreateVolume in an empty project and with 10,000 unrelated volumes; the whole-project walk (a Cinder capped at 3.59) as baseline`);
  const b9: Record<string, B9Result> = {};
  for (const sc of [
    { label: 'changes, empty', seeded: 0 },
    { label: 'changes, 10k', seeded: 10_000 },
    { label: 'walk, empty', seeded: 0, maxMicroversion: '3.59' },
    { label: 'walk, 10k', seeded: 10_000, maxMicroversion: '3.59' },
  ]) {
    const r = await runB9(dir, controllerFor, sc);
    b9[sc.label] = r;
    const t = r.ticks;
    row({ id: 'B9', figure: `${sc.label}: per tick`, value: `max ${t.maxRequestsPerTick} / mean ${f(t.meanRequestsPerTick, 2)} requests, mean ${f(t.meanBytesPerTick / 1024, 1)} KiB (max ${f(t.maxBytesPerTick / 1024, 1)}) over ${t.ticks} ticks; overhead ${ms(r.overhead)}; ${t.totalRequests} requests in all`, baseline: '', target: '', verdict: 'INFO' });
  }
  json.B9 = b9;
  const feed10k = b9['changes, 10k'] as B9Result;
  const feed0 = b9['changes, empty'] as B9Result;
  const walk10k = b9['walk, 10k'] as B9Result;
  const bytesRatio = feed10k.ticks.meanBytesPerTick / Math.max(1, feed0.ticks.meanBytesPerTick);
  row({ id: 'B9', figure: 'requests per tick, 10,000 unrelated volumes', value: `max ${feed10k.ticks.maxRequestsPerTick}`, baseline: `walk: max ${walk10k.ticks.maxRequestsPerTick}`, target: '≤ 1', verdict: feed10k.ticks.maxRequestsPerTick <= 1 ? 'PASS' : 'MISS' });
  row({ id: 'B9', figure: 'bytes per tick, 10,000 unrelated volumes vs empty project', value: `${f(bytesRatio, 2)}× (${f(feed10k.ticks.meanBytesPerTick / 1024, 1)} vs ${f(feed0.ticks.meanBytesPerTick / 1024, 1)} KiB)`, baseline: `walk: ${f(walk10k.ticks.meanBytesPerTick / 1024, 0)} KiB per tick`, target: '≤ 2×', verdict: bytesRatio <= 2 ? 'PASS' : 'MISS' });
  row({ id: 'B9', figure: 'CreateVolume overhead, 10,000 unrelated volumes', value: ms(feed10k.overhead), baseline: `walk: ${ms(walk10k.overhead)}`, target: 'p50 ≤ 100 ms', verdict: feed10k.overhead.p50 <= 100 ? 'PASS' : 'MISS' });
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

const wallS = (performance.now() - wallStart) / 1000;
json.wallSeconds = wallS;
json.rows = rows;
json.host = { cpus: (await import('node:os')).cpus().length, node: process.version };
await writeFile(join(PACKAGE_ROOT, 'bench-results.json'), JSON.stringify(json, null, 2) + '\n');
await writeFile(join(PACKAGE_ROOT, 'bench-results.svg'), renderSvg(distributions));
printTable(rows);
process.stdout.write(`\nwall time ${f(wallS, 1)} s; wrote bench-results.json and bench-results.svg\n`);
const misses = rows.filter((r) => r.verdict === 'MISS').length;
process.stdout.write(`${misses} MISS, ${rows.filter((r) => r.verdict === 'PASS').length} PASS\n`);
process.exit(0);

// ------------------------------------------------------------------ helpers

/** The latest transition of `id` recorded within [from, to] (the state change the RPC waited for). */
function lastTransition(st: EmulatorStats, id: string, from: number, to: number): number {
  const ts = (st.transitions[id] ?? []).filter((t) => t.at >= from && t.at <= to);
  return ts[ts.length - 1]?.at ?? NaN;
}

/** Poll times (ms after creation) of a schedule starting at `first` and growing ×factor. */
function schedule(first: number, factor: number): number[] {
  const out: number[] = [];
  let t = 0;
  let interval = first;
  while (t < 120_000) {
    t += interval;
    out.push(t);
    interval *= factor;
  }
  return out;
}

async function spawnBareGrpc(socket: string): Promise<{ pid: number; kill(): void }> {
  const { spawn } = await import('node:child_process');
  const src = `const g = require('@grpc/grpc-js'); const s = new g.Server(); s.bindAsync('unix:${socket}', g.ServerCredentials.createInsecure(), (e) => { if (e) { console.error(e); process.exit(1); } console.log('ready'); });`;
  const child = spawn(process.execPath, ['-e', src], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
    child.on('exit', (c) => reject(new Error(`bare grpc server exited ${c}`)));
  });
  return { pid: child.pid as number, kill: () => child.kill('SIGTERM') };
}

function printTable(rs: Row[]): void {
  const head: Row = { id: '#', figure: 'figure', value: 'measured', baseline: 'baseline (same run)', target: 'target', verdict: 'INFO' };
  const cols: Array<keyof Row> = ['id', 'figure', 'value', 'baseline', 'target', 'verdict'];
  process.stdout.write('\n| ' + cols.map((c) => (c === 'verdict' ? 'result' : head[c])).join(' | ') + ' |\n|' + cols.map(() => '---').join('|') + '|\n');
  for (const r of rs) process.stdout.write('| ' + cols.map((c) => String(r[c]).replace(/\|/g, '/')).join(' | ') + ' |\n');
}

