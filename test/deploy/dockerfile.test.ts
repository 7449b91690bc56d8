import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostArgv, type HostMode } from '../../src/host/exec-execa.js';
import { PACKAGE_OF } from '../../src/host/host-programs.js';
import { scanExecCalls, type ExecCall } from './exec-scan.js';
import { REPO_ROOT } from './manifests.js';

/**
 * The runtime image must ship every program the driver runs. The programs are found in the code
 * (every call through the Exec seam, see exec-scan.ts), mapped to Debian bookworm packages, and
 * each package must be installed by the runtime stage of the Dockerfile.
 */

/** Programs that programs of the driver run in turn. */
const RUN_BY: Record<string, string[]> = {
  // `rbd map` loads the rbd kernel module with modprobe when it is not loaded yet;
  // `rbd device map -t nbd` (the fallback for features krbd refuses) starts rbd-nbd.
  rbd: ['modprobe', 'rbd-nbd'],
};

/** The Node major the project supports: the lowest one package.json's engines accepts. */
function supportedNodeMajor(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines?: { node?: string } };
  const m = /^>=\s*(\d+)$/.exec(pkg.engines?.node?.trim() ?? '');
  if (!m?.[1]) throw new Error(`package.json engines.node is "${pkg.engines?.node}", expected ">=N"`);
  return m[1];
}

/** The Node major CI fetches and tests on: scripts/node-runtime.sh's default. */
function ciNodeMajor(): string | undefined {
  const script = readFileSync(join(REPO_ROOT, 'scripts', 'node-runtime.sh'), 'utf8');
  return /^major=\$\{1:-(\d+)\}$/m.exec(script)?.[1];
}

const NODE_MAJOR = supportedNodeMajor();
const IMAGE = `node:${NODE_MAJOR}-bookworm-slim`;

// ---- a small Dockerfile reader ----

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  image: string;
  name?: string;
  body: Instruction[];
}

export function parseDockerfile(text: string): { stages: Stage[] } {
  const logical: string[] = [];
  let acc = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) && acc === '') continue; // comment (and parser directive)
    if (/^\s*#/.test(line)) continue; // comment inside a continued instruction
    if (line.endsWith('\\')) {
      acc += `${line.slice(0, -1)} `;
      continue;
    }
    acc += line;
    if (acc.trim()) logical.push(acc.trim());
    acc = '';
  }
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(l);
    const op = (m?.[1] ?? '').toUpperCase();
    const args = m?.[2] ?? '';
    if (op === 'ARG' && stages.length === 0) {
      const [k, v] = args.split('=');
      if (k) globalArgs.set(k.trim(), (v ?? '').trim());
    } else if (op === 'FROM') {
      const fm = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      const image = (fm?.[1] ?? '').replace(/\$\{?(\w+)\}?/g, (_s, v: string) => globalArgs.get(v) ?? '');
      stages.push({ image, ...(fm?.[2] ? { name: fm[2] } : {}), body: [] });
    } else {
      stages[stages.length - 1]?.body.push({ op, args });
    }
  }
  return { stages };
}

/** Packages named by `apt-get install` in the stage's RUN instructions. */
export function aptPackages(stage: Stage): string[] {
  const out: string[] = [];
  for (const ins of stage.body.filter((i) => i.op === 'RUN')) {
    for (const cmd of ins.args.split(/&&|;|\|\|/)) {
      const words = cmd.trim().split(/\s+/);
      const at = words.findIndex((w, i) => (w === 'apt-get' || w === 'apt') && words[i + 1] === 'install');
      if (at < 0) continue;
      out.push(...words.slice(at + 2).filter((w) => w && !w.startsWith('-')));
    }
  }
  return out;
}

const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const { stages } = parseDockerfile(dockerfile);
const builder = stages.find((s) => s.name === 'builder');
const runtime = stages[stages.length - 1];
const installed = new Set(runtime ? aptPackages(runtime) : []);

describe('the program scanner', () => {
  it('finds programs however their name reaches Exec.run, and reports what it cannot resolve', () => {
    const calls = scanExecCalls(join(REPO_ROOT, 'test', 'deploy', 'fixtures', 'exec-scan'));
    const programs = [...new Set(calls.flatMap((c) => c.programs))].sort();
    expect(programs).toEqual([
      'class-tool',
      'fsck.ext4',
      'literal-tool',
      'mkfs.ext4',
      'mkfs.xfs',
      'multiline-tool',
      'sgdisk',
      'tool-a',
      'tool-b',
      'xfs_repair',
    ]);
    expect(calls.filter((c) => c.unresolved).map((c) => c.unresolved)).toEqual(['dynamic']);
    expect(programs).not.toContain('not-an-exec');
  });
});

describe('every program the driver runs is installed in the runtime image', () => {
  const calls: ExecCall[] = scanExecCalls(REPO_ROOT);
  const direct = [...new Set(calls.flatMap((c) => c.programs))].sort();
  // --host-exec nsenter|chroot wrap each command in one more program.
  const wrappers = (['direct', 'nsenter', 'chroot'] as HostMode[]).map((mode) => hostArgv('true', [], mode).file).filter((f) => f !== 'true');
  const programs = [...new Set([...direct, ...wrappers, ...direct.flatMap((p) => RUN_BY[p] ?? [])])].sort();

  it('the scan finds the known programs (it is not blind)', () => {
    for (const p of ['mount', 'umount', 'blkid', 'mkfs.ext4', 'mkfs.xfs', 'iscsiadm', 'nsenter', 'chroot']) expect(programs).toContain(p);
    expect(calls.length).toBeGreaterThan(10);
  });

  it('every Exec.run call names its program in a way the scan can resolve', () => {
    expect(calls.filter((c) => c.unresolved).map((c) => `${c.file}:${c.line} run(${c.unresolved}, ...)`)).toEqual([]);
  });

  it.each(programs.map((p) => [p] as const))('%s', (program) => {
    const pkg = PACKAGE_OF[program];
    expect(pkg, `no Debian package known for "${program}": add it to PACKAGE_OF`).toBeDefined();
    expect([...installed], `"${program}" needs package ${pkg} in the runtime stage's apt-get install`).toContain(pkg);
  });

  it('the runtime stage installs nothing the driver does not run', () => {
    const needed = new Set(programs.map((p) => PACKAGE_OF[p]));
    expect([...installed].filter((p) => !needed.has(p))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  it(`two stages from ${IMAGE} (the major engines names): builder and runtime`, () => {
    expect(stages).toHaveLength(2);
    expect(builder).toBeDefined();
    for (const s of stages) expect(s.image).toBe(IMAGE);
    expect(runtime?.name).toBe('runtime');
  });

  it('CI tests on the Node major the image ships, and the code is typed against it', () => {
    expect(ciNodeMajor()).toBe(NODE_MAJOR);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies['@types/node']?.split('.')[0]).toBe(NODE_MAJOR);
  });

  it('the builder runs npm ci, then the build, then prunes dev dependencies', () => {
    const runs = (builder?.body ?? []).filter((i) => i.op === 'RUN').map((i) => i.args).join(' && ');
    const at = (s: string): number => runs.indexOf(s);
    expect(at('npm ci')).toBeGreaterThanOrEqual(0);
    expect(at('npm run build')).toBeGreaterThan(at('npm ci'));
    expect(at('npm prune --omit=dev')).toBeGreaterThan(at('npm run build'));
    // everything the builder copies exists in the repository
    for (const c of (builder?.body ?? []).filter((i) => i.op === 'COPY')) {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) expect(existsSync(join(REPO_ROOT, src)), src).toBe(true);
    }
  });

  it('the runtime stage has the built app where the entrypoint and package-info look for it', () => {
    const body = runtime?.body ?? [];
    expect(body.find((i) => i.op === 'WORKDIR')?.args).toBe('/app');
    const copies = body.filter((i) => i.op === 'COPY').map((i) => i.args);
    for (const what of ['package.json', 'node_modules', 'dist', 'proto']) {
      expect(copies.some((c) => c.startsWith('--from=builder') && c.includes(`/${what} `)), what).toBe(true);
    }
    const entry = body.find((i) => i.op === 'ENTRYPOINT');
    expect(JSON.parse(entry?.args ?? 'null')).toEqual(['node', '/app/dist/cli/main.js']);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(Object.values(pkg.bin)).toContain('dist/cli/main.js');
    expect(existsSync(join(REPO_ROOT, 'src', 'cli', 'main.ts'))).toBe(true);
  });

  it('apt: no recommends, lists removed, no initiator name baked into the image', () => {
    const runs = (runtime?.body ?? []).filter((i) => i.op === 'RUN').map((i) => i.args).join(' ');
    expect(runs).toContain('--no-install-recommends');
    expect(runs).toContain('rm -rf /var/lib/apt/lists');
    expect(runs).toContain('rm -f /etc/iscsi/initiatorname.iscsi');
  });

  it('.dockerignore keeps the build context small but keeps what the builder copies', () => {
    const patterns = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(patterns.filter((p) => p.startsWith('!'))).toEqual([]);
    const toRegex = (p: string): RegExp =>
      new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .split('**/')
          .map((part) => part.replace(/\*/g, '[^/]*'))
          .join('(?:.*/)?')}(?:/.*)?$`,
      );
    const ignored = (path: string): boolean => patterns.some((p) => toRegex(p).test(path));
    for (const p of ['node_modules', 'dist', '.git', 'test', 'deploy', 'docs']) expect(ignored(p), p).toBe(true);
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/cli/main.ts', 'proto/csi.proto']) {
      expect(ignored(p), p).toBe(false);
    }
    expect(ignored('src/config/cloud-config.test.ts')).toBe(true);
  });
});
