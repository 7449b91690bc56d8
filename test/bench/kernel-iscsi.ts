// B10: NodeStage / NodeUnstage over real iSCSI on a real kernel (the real-kernel tier's QEMU
// guest, tgtd targets of the real Cinder, CHAP), against the same work done by a bash script in
// the same guest: iscsiadm record + login, the LUN scan, mkfs.ext4 with the driver's flags, mount;
// and umount, flush, SCSI delete, logout, record delete. One path (the plugin runs with
// --multipath off, Cinder then gives one portal) so both sides do the same work.
//
//   REAL_KERNEL=1 REAL_CINDER_ENV=/tmp/cinder-metal-csi-real-noauth/env.sh npm run bench:kernel
//
// Writes bench-kernel-results.json. Not part of `npm test`.
import { writeFile } from 'node:fs/promises';
import { decodePublishContext } from '../../src/services/publish-context.js';
import { keyPairFromPem } from '../../src/util/seal.js';
import { startRig } from '../real-kernel/rig.js';
import { controllerPublish, createVolume, stage, unstage, type Cap } from '../real-kernel/steps.js';
import { kernelTierOrNote } from '../real-kernel/tier.js';
import { summarize } from './lib.js';

const SAMPLES = Number(process.env.BENCH_KERNEL_SAMPLES ?? 5);
const EXT4: Cap = { kind: 'mount', fsType: 'ext4' };
const TARGET_RATIO = 1.3;

const tier = kernelTierOrNote();
if (!tier) process.exit(0);

const rig = await startRig(tier, { multipathd: false });
try {
  await rig.startNode(['--multipath', 'off', '--log-level', 'info']);
  const key = keyPairFromPem(await rig.guest.sh('cat /var/lib/cinder-metal-csi/node.key'));
  const driver = { stage: [] as number[], unstage: [] as number[] };
  const shell = { stage: [] as number[], unstage: [] as number[] };

  for (let i = 0; i < SAMPLES; i++) {
    // The plugin: a fresh volume (so stage includes mkfs), timed from the host's CSI client.
    const a = await createVolume(rig, 'bench-k');
    const ctxA = await controllerPublish(rig, a, EXT4);
    let t = performance.now();
    const s = await stage(rig, a, EXT4, ctxA);
    driver.stage.push(performance.now() - t);
    t = performance.now();
    await unstage(rig, s);
    driver.unstage.push(performance.now() - t);

    // The same work in bash on another fresh volume; timed inside the guest (no RPC hop counted).
    const b = await createVolume(rig, 'bench-k');
    const ctxB = await controllerPublish(rig, b, EXT4);
    const conn = decodePublishContext(ctxB, b, key).connection;
    if (conn.type !== 'iscsi' || !conn.targets[0]) throw new Error('expected an iSCSI connection');
    const { portal, iqn, lun } = conn.targets[0];
    const auth = conn.auth;
    const dir = `/tmp/bench-${b}`;
    const env = `P='${portal}' T='${iqn}' L=${lun} U='${auth?.username ?? ''}' W='${auth?.password ?? ''}' D='${dir}'`;
    const stageScript = `${env}; s=$(date +%s%N)
      iscsiadm -m node -T "$T" -p "$P" -o new >/dev/null
      iscsiadm -m node -T "$T" -p "$P" -o update -n node.startup -v manual -n node.session.scan -v manual \\
        -n node.session.auth.authmethod -v CHAP -n node.session.auth.username -v "$U" -n node.session.auth.password -v "$W"
      iscsiadm -m node -T "$T" -p "$P" --login >/dev/null
      sid=$(iscsiadm -m session | awk -v t="$T" '$4 == t { gsub(/[\\[\\]]/, "", $2); print $2 }')
      h=$(basename "$(dirname "$(readlink -f /sys/class/iscsi_session/session$sid/device)")"); h=\${h#host}
      echo "- - $L" > /sys/class/scsi_host/host$h/scan
      until dev=$(ls /sys/class/iscsi_session/session$sid/device/target*/*:$L/block 2>/dev/null) && [ -n "$dev" ]; do sleep 0.05; done
      mkfs.ext4 -q -F -m0 -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 /dev/$dev
      mkdir -p "$D" && mount -o nodiscard /dev/$dev "$D"
      echo $(( ($(date +%s%N) - s) / 1000000 )) $dev`;
    const [stageMs, dev] = (await rig.guest.sh(stageScript)).trim().split(' ');
    shell.stage.push(Number(stageMs));
    const unstageScript = `${env}; s=$(date +%s%N)
      umount "$D"; blockdev --flushbufs /dev/${dev}; echo 1 > /sys/block/${dev}/device/delete
      iscsiadm -m node -T "$T" -p "$P" --logout >/dev/null; iscsiadm -m node -T "$T" -p "$P" -o delete
      echo $(( ($(date +%s%N) - s) / 1000000 ))`;
    shell.unstage.push(Number((await rig.guest.sh(unstageScript)).trim()));

    for (const id of [a, b]) {
      await rig.call(rig.controller.controller, 'ControllerUnpublishVolume', { volume_id: id, node_id: (await rig.call<{ node_id: string }>(rig.node, 'NodeGetInfo', {})).node_id });
      await rig.call(rig.controller.controller, 'DeleteVolume', { volume_id: id });
    }
    console.log(`B10 sample ${i + 1}/${SAMPLES}: stage ${driver.stage.at(-1)?.toFixed(0)} ms vs ${stageMs} ms, unstage ${driver.unstage.at(-1)?.toFixed(0)} ms vs ${shell.unstage.at(-1)} ms`);
  }

  const result: Record<string, unknown> = {};
  for (const what of ['stage', 'unstage'] as const) {
    const d = summarize(driver[what]);
    const b = summarize(shell[what]);
    const ratio = d.p50 / b.p50;
    result[what] = { driver: d, shell: b, ratio, target: TARGET_RATIO, met: ratio <= TARGET_RATIO };
    console.log(`B10 Node${what === 'stage' ? 'Stage' : 'Unstage'} over real iSCSI: driver p50 ${d.p50.toFixed(0)} ms, bash p50 ${b.p50.toFixed(0)} ms, ratio ${ratio.toFixed(2)} (target ≤ ${TARGET_RATIO}) ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'}`);
  }
  await writeFile('bench-kernel-results.json', `${JSON.stringify({ samples: SAMPLES, ...result }, null, 2)}\n`);
} finally {
  await rig.stop();
}
