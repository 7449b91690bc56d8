import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { mkfsArgv, type FsType } from '../../src/host/filesystem.js';
import { GIB, haveCommand, mountCap, stageReq } from './harness.js';
import { describeRoot, useHarness, warnIfNotRoot } from './setup.js';

warnIfNotRoot('node data path: stage/unstage timing');

const RUNS = 10;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** The bare commands a person would type, run by one shell per phase (same mkfs flags as the driver). */
function shellStage(file: string, dir: string, fsType: FsType): string {
  const { command, args } = mkfsArgv('"$dev"', fsType);
  const mountOpts = fsType === 'xfs' ? '-o nouuid ' : '';
  return [
    'set -e',
    `dev=$(losetup --find --show --direct-io=off '${file}')`,
    'blkid -p -o export "$dev" || [ $? -eq 2 ]',
    `${command} ${args.join(' ')} >/dev/null`,
    `mount -t ${fsType} ${mountOpts}"$dev" '${dir}'`,
    'echo "$dev"',
  ].join('\n');
}

function shellUnstage(dev: string, dir: string): string {
  return ['set -e', `umount '${dir}'`, `losetup -d '${dev}'`].join('\n');
}

describeRoot('node data path: NodeStage/NodeUnstage wall time against bare shell commands', () => {
  const harness = useHarness();

  it(
    `median of ${RUNS}, ext4 and xfs, 1 GiB sparse file`,
    async () => {
      const h = harness.get();
      const types: FsType[] = ['ext4'];
      if (await haveCommand('mkfs.xfs')) types.push('xfs');
      else console.warn('\n!!! xfs timing SKIPPED: mkfs.xfs missing !!!\n');
      const rows: string[] = [];
      for (const fsType of types) {
        const d = { stage: [] as number[], unstage: [] as number[] };
        const s = { stage: [] as number[], unstage: [] as number[] };
        for (let i = 0; i < RUNS; i++) {
          // Driver: a fresh blank volume each run, so every stage formats.
          const v = await h.volume(GIB);
          const staging = await h.stagingPath(v);
          d.stage.push(await timed(() => h.call('NodeStageVolume', stageReq(v, staging, mountCap(fsType)))));
          expect((await h.leftovers()).mounts).toEqual([staging]);
          d.unstage.push(await timed(() => h.call('NodeUnstageVolume', { volume_id: v.id, staging_target_path: staging })));
          expect(await h.leftovers()).toEqual({ mounts: [], loops: [] });
          await rm(v.file);

          // Shell: the same steps on another fresh file.
          const file = join(h.base, 'volumes', `shell-${fsType}-${i}.img`);
          await execa('truncate', ['-s', String(GIB), file]);
          const dir = join(h.kubelet, 'shell', `${fsType}-${i}`);
          await mkdir(dir, { recursive: true });
          let dev = '';
          s.stage.push(
            await timed(async () => {
              dev = (await execa('bash', ['-c', shellStage(file, dir, fsType)])).stdout.trim();
            }),
          );
          expect(dev).toMatch(/^\/dev\/loop\d+$/);
          s.unstage.push(await timed(() => execa('bash', ['-c', shellUnstage(dev, dir)])));
          expect(await h.leftovers()).toEqual({ mounts: [], loops: [] });
          await rm(file);
        }
        const f = (x: number): string => `${x.toFixed(1)} ms`.padStart(10);
        const r = (a: number, b: number): string => `×${(a / b).toFixed(2)}`.padStart(7);
        rows.push(
          `${fsType.padEnd(5)} stage   driver ${f(median(d.stage))}  shell ${f(median(s.stage))}  ${r(median(d.stage), median(s.stage))}`,
          `${fsType.padEnd(5)} unstage driver ${f(median(d.unstage))}  shell ${f(median(s.unstage))}  ${r(median(d.unstage), median(s.unstage))}`,
        );
        // Loose sanity bound: the driver adds checks (find device, probe, stash, mountinfo,
        // flush) but must stay the same order of magnitude as the bare commands.
        expect(median(d.stage)).toBeLessThan(median(s.stage) * 4 + 500);
        expect(median(d.unstage)).toBeLessThan(median(s.unstage) * 4 + 500);
      }
      console.log(
        [`\nNodeStage/NodeUnstage wall time, median of ${RUNS} (1 GiB sparse file on a loop device; shell = bare commands in bash):`, ...rows, ''].join(
          '\n',
        ),
      );
    },
    300_000,
  );
});
