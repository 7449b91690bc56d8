#!/usr/bin/env node
/* global process, console, setTimeout, clearTimeout */
// Runs the upstream csi-sanity (kubernetes-csi/csi-test v5) against cinder-metal-csi in `all`
// mode, backed by the embedded Cinder emulator on real loop devices, once per access type
// (mount, then block). Without a csi-sanity binary it says how to get one and exits 0 ("skipped").
//
//   CSI_SANITY_BIN=/path/to/csi-sanity npm run sanity
//   SANITY_ACCESS_TYPES=mount npm run sanity        # only one access type
//   SANITY_ARGS="--ginkgo.focus=Controller" npm run sanity
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const TARGET_VERSION = 'v5 (github.com/kubernetes-csi/csi-test/v5, CSI spec v1.x)';

function findBinary() {
  const fromEnv = process.env.CSI_SANITY_BIN;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    console.log(`CSI_SANITY_BIN=${fromEnv} is not an executable file.`);
    return undefined;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'csi-sanity');
    if (isExecutable(candidate)) return candidate;
  }
  return buildBinary();
}

/**
 * The project's own copy of the upstream suite (csi-test v5.3.1 with its vendored dependencies,
 * sanity/csi-test-v5.3.1.tar.gz) built offline with Debian's golang-go by
 * sanity/build-csi-sanity.sh, cached under ~/.cache. CSI_SANITY_BUILD=0 turns this off.
 */
function buildBinary() {
  if (process.env.CSI_SANITY_BUILD === '0') return undefined;
  try {
    const out = execFileSync(join(HERE, 'build-csi-sanity.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000 });
    const bin = out.trim().split('\n').at(-1);
    return bin && isExecutable(bin) ? bin : undefined;
  } catch (err) {
    console.log(`csi-sanity: could not build it from sanity/csi-test-v5.3.1.tar.gz: ${(err.stderr ?? err.message ?? String(err)).toString().trim().split('\n').at(-1)}`);
    return undefined;
  }
}

function isExecutable(p) {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function howToInstall() {
  console.log(`csi-sanity: no binary found (looked at $CSI_SANITY_BIN, csi-sanity on PATH, and building sanity/csi-test-v5.3.1.tar.gz with Debian's golang-go).
Install the upstream suite (${TARGET_VERSION}) with Go >= 1.22:
  go install github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@latest
or build it from source:
  git clone https://github.com/kubernetes-csi/csi-test && cd csi-test/cmd/csi-sanity && make   # or: go build -o csi-sanity .
then run:  CSI_SANITY_BIN=$(go env GOPATH)/bin/csi-sanity npm run sanity   (as root: it mounts loop devices)
csi-sanity: skipped (no binary)`);
}

/** Starts a child and resolves with the first stdout line matching `ready`. */
function startChild(name, args, ready, log) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (b) => {
    out += b.toString();
    log.push(b.toString());
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', (b) => log.push(b.toString()));
  const started = new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name} did not start in 20 s:\n${log.join('')}`)), 20_000);
    const check = () => {
      const m = ready(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        res(m);
      }
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${name} exited (${code}) before it was ready:\n${log.join('')}`));
    });
  });
  return { child, started };
}

async function waitForSocket(path, ms = 20_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (existsSync(path)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the driver socket ${path} did not appear`);
}

function runSanity(bin, args) {
  return new Promise((res) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b.toString();
      process.stdout.write(b);
    });
    child.on('exit', (code) => res({ code: code ?? 1, out }));
  });
}

/** Unmounts what is left under the kubelet dir and detaches loop devices backed under `dir`. */
async function scrub(dir, kubeletDir) {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === kubeletDir || m.startsWith(`${kubeletDir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) try { execFileSync('umount', ['-l', m]); } catch { /* best effort */ }
  for (const name of (await readdir('/sys/block').catch(() => [])).filter((n) => n.startsWith('loop'))) {
    const backing = (await readFile(`/sys/block/${name}/loop/backing_file`, 'utf8').catch(() => '')).trim();
    if (backing.startsWith(`${dir}/`)) try { execFileSync('losetup', ['-d', `/dev/${name}`]); } catch { /* best effort */ }
  }
  return mounts.length;
}

/**
 * SANITY_CINDER_ENV=<env.sh of test/real-cinder (noauth)>: the driver's controller talks to that
 * real Cinder, in a project of its own (noauth takes any hex project id), with its volume type.
 */
async function realCinder(file) {
  const text = await readFile(file, 'utf8');
  const get = (k) => new RegExp(`^export ${k}='([^']*)'$`, 'm').exec(text)?.[1];
  if (get('CINDER_AUTH') !== 'noauth') throw new Error(`${file}: the sanity run needs the real Cinder in noauth mode`);
  const url = get('CINDER_URL');
  const volumeType = get('CINDER_VOLUME_TYPE');
  if (!url || !volumeType) throw new Error(`${file} has no CINDER_URL or CINDER_VOLUME_TYPE`);
  return { endpoint: `${url}/v3/5a717e5a717e5a717e5a717e5a717e5a`, volumeType };
}

async function main() {
  const bin = findBinary();
  if (!bin) {
    howToInstall();
    return 0;
  }
  if (!existsSync(CLI)) {
    console.error(`${CLI} is missing: run "npm run build" first (npm run sanity does).`);
    return 1;
  }
  const dir = await mkdtemp(join(tmpdir(), 'cmc-sanity-'));
  const kubeletDir = join(dir, 'kubelet');
  await mkdir(kubeletDir, { recursive: true });
  const children = [];
  const logs = [];
  try {
    const real = process.env.SANITY_CINDER_ENV ? await realCinder(process.env.SANITY_CINDER_ENV) : undefined;
    let endpoint;
    if (real) {
      endpoint = real.endpoint;
    } else {
      const emu = startChild('emulator', ['emulator', '--port', '0', '--state-dir', join(dir, 'cinder'), '--quota', 'volumes=1000', '--quota', 'snapshots=1000', '--quota', 'gigabytes=100000'], (o) => /endpoint=(\S+)/.exec(o)?.[1], logs);
      children.push(emu.child);
      endpoint = await emu.started;
    }
    const cloudConf = join(dir, 'cloud.conf');
    await writeFile(cloudConf, `[BlockStorage]\nauth-strategy = noauth\ncinder-endpoint = ${endpoint}\ncluster-id = sanity\n`, { mode: 0o600 });
    let parameters = join(HERE, 'parameters.yaml');
    let mutableParameters = join(HERE, 'mutable-parameters.yaml');
    if (real) {
      parameters = join(dir, 'parameters.yaml');
      await writeFile(parameters, `type: ${real.volumeType}\n`);
      mutableParameters = join(dir, 'mutable-parameters.yaml');
      await writeFile(mutableParameters, `type: ${real.volumeType}\n`);
    }
    const sock = join(dir, 'csi.sock');
    const driverLog = [];
    const driver = spawn(process.execPath, [CLI, '--mode', 'all', '--endpoint', `unix://${sock}`, '--node-name', 'sanity-node', '--node-ip', '127.0.0.1', '--cloud-config', cloudConf, '--kubelet-dir', kubeletDir, '--state-dir', join(dir, 'state'), '--log-level', process.env.SANITY_LOG_LEVEL ?? 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    driver.stdout.on('data', (b) => driverLog.push(b.toString()));
    driver.stderr.on('data', (b) => driverLog.push(b.toString()));
    children.push(driver);
    await waitForSocket(sock);

    const summary = [];
    const types = (process.env.SANITY_ACCESS_TYPES ?? (real ? 'mount' : 'mount,block')).split(',').map((s) => s.trim()).filter(Boolean);
    for (const accessType of types) {
      const work = join(kubeletDir, 'sanity', accessType);
      // csi-sanity makes its staging and mount dirs with a plain mkdir: the parent must exist.
      await mkdir(work, { recursive: true });
      const args = [
        `--csi.endpoint=unix://${sock}`,
        `--csi.stagingdir=${join(work, 'staging')}`,
        `--csi.mountdir=${join(work, 'mount')}`,
        `--csi.testvolumeparameters=${parameters}`,
        `--csi.testvolumemutableparameters=${mutableParameters}`,
        // Against a real Cinder only the controller specs: the node specs need a kernel
        // initiator, which the real-kernel tier (test/real-kernel) provides instead.
        ...(real ? ['--ginkgo.focus=Controller'] : []),
        `--csi.secrets=${join(HERE, 'secrets.yaml')}`,
        `--csi.testvolumesize=${1024 ** 3}`,
        `--csi.testvolumeexpandsize=${2 * 1024 ** 3}`,
        `--csi.testvolumeaccesstype=${accessType}`,
        ...(process.env.SANITY_ARGS ? process.env.SANITY_ARGS.split(/\s+/).filter(Boolean) : []),
      ];
      console.log(`\n=== csi-sanity (${accessType}) ${bin} ${args.join(' ')}`);
      const { code, out } = await runSanity(bin, args);
      // ginkgo colours its summary even into a pipe.
      const plain = out.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
      const ran = /Ran (\d+) of (\d+) Specs in [\d.]+ seconds/.exec(plain)?.[0] ?? '(no ginkgo summary)';
      const counts = /(\d+) Passed \| (\d+) Failed \| (\d+) Pending \| (\d+) Skipped/.exec(plain)?.[0] ?? '';
      summary.push({ accessType, code, line: `${ran} ${counts}`.trim() });
    }
    console.log('\ncsi-sanity summary:');
    for (const s of summary) console.log(`  ${s.accessType.padEnd(5)} ${s.code === 0 ? 'PASS' : `FAIL (exit ${s.code})`}  ${s.line}`);
    if (summary.some((s) => s.code !== 0) && driverLog.length) console.log(`\ndriver log (last lines):\n${driverLog.join('').split('\n').slice(-40).join('\n')}`);
    return summary.every((s) => s.code === 0) ? 0 : 1;
  } finally {
    for (const c of children.reverse()) {
      c.kill('SIGTERM');
      await new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', r)));
    }
    const left = await scrub(dir, kubeletDir);
    if (left > 0) console.log(`cleanup: unmounted ${left} leftover mount(s) under ${kubeletDir}`);
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`csi-sanity run failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
