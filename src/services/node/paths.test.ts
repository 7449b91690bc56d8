import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverError, type ErrorKind } from '../../util/errors.js';
import { isStrictlyUnder, resolveUnderKubelet, resolveVolumePath } from './paths.js';

let base: string;
let kubelet: string;
let outside: string;

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'node-paths-')));
  kubelet = join(base, 'kubelet');
  outside = join(base, 'elsewhere');
  await mkdir(join(kubelet, 'pods', 'p1', 'volumes'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(kubelet, 'afile'), '');
  // An escape: a directory symlink inside the root pointing out of it.
  await symlink(outside, join(kubelet, 'pods', 'escape'));
  // A harmless one: a symlink that stays inside.
  await symlink(join(kubelet, 'pods', 'p1'), join(kubelet, 'pods', 'inside'));
  // A dangling one whose target is outside: creating the target through it would escape.
  await symlink(join(outside, 'not-yet'), join(kubelet, 'pods', 'dangling'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<ErrorKind | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof DriverError) return err.kind;
    throw err;
  }
}

describe('resolveUnderKubelet', () => {
  const cases: [string, () => string | undefined, ErrorKind | 'ok'][] = [
    ['missing', () => undefined, 'invalid'],
    ['empty', () => '', 'invalid'],
    ['relative', () => 'pods/p1/volumes/x', 'invalid'],
    ['dot-dot inside the root', () => `${kubelet}/pods/../pods/p1/x`, 'invalid'],
    ['dot-dot leaving the root', () => `${kubelet}/../elsewhere/x`, 'invalid'],
    ['outside the root', () => `${outside}/x`, 'invalid'],
    ['the root itself', () => kubelet, 'invalid'],
    ['a sibling sharing the prefix', () => `${kubelet}-evil/x`, 'invalid'],
    ['NUL byte', () => `${kubelet}/pods/a\0b`, 'invalid'],
    ['symlink escape (existing)', () => `${kubelet}/pods/escape`, 'invalid'],
    ['symlink escape (below, not yet created)', () => `${kubelet}/pods/escape/new/target`, 'invalid'],
    ['dangling symlink', () => `${kubelet}/pods/dangling`, 'invalid'],
    ['existing directory', () => `${kubelet}/pods/p1/volumes`, 'ok'],
    ['not yet created', () => `${kubelet}/pods/p1/volumes/new/mount`, 'ok'],
    ['symlink staying inside', () => `${kubelet}/pods/inside/volumes`, 'ok'],
    ['trailing slash and doubled slashes', () => `${kubelet}//pods/p1/volumes/`, 'ok'],
    ['below a regular file', () => `${kubelet}/afile/x`, 'ok'],
  ];
  it.each(cases)('%s', async (_name, path, want) => {
    expect(await codeOf(resolveUnderKubelet('target_path', path(), kubelet))).toBe(want);
  });

  it('names the field in its message', async () => {
    await expect(resolveUnderKubelet('staging_target_path', 'relative', kubelet)).rejects.toThrow(/staging_target_path/);
    await expect(resolveUnderKubelet('target_path', undefined, kubelet)).rejects.toThrow(/target_path is required/);
  });

  it('returns the resolved path (symlinks inside the root followed)', async () => {
    expect(await resolveUnderKubelet('p', `${kubelet}/pods/inside/volumes/new`, kubelet)).toBe(`${kubelet}/pods/p1/volumes/new`);
  });

  it('accepts paths under a kubelet root that is itself a symlink', async () => {
    const link = join(base, 'kubelet-link');
    await symlink(kubelet, link);
    expect(await resolveUnderKubelet('p', `${link}/pods/p1/volumes/x`, link)).toBe(`${kubelet}/pods/p1/volumes/x`);
    expect(await codeOf(resolveUnderKubelet('p', `${link}/pods/escape/x`, link))).toBe('invalid');
  });

  it('fails as INTERNAL when the kubelet root does not exist (configuration error)', async () => {
    expect(await codeOf(resolveUnderKubelet('p', `${base}/nope/x/y`, `${base}/nope`))).toBe('internal');
  });
});

describe('isStrictlyUnder', () => {
  it.each([
    ['/a/b', '/a', true],
    ['/a', '/a', false],
    ['/ab', '/a', false],
    ['/a/b', '/a/', true],
    ['/', '/', false],
    ['/x', '/', true],
  ])('%s under %s → %s', (child, parent, want) => {
    expect(isStrictlyUnder(child, parent)).toBe(want);
  });
});

describe('resolveVolumePath (stats and expand lookups)', () => {
  it.each([
    ['missing', '', 'invalid'],
    ['relative (csi-sanity "some/path")', 'some/path', 'not-found'],
    ['outside the root', '/etc', 'not-found'],
    ['symlink escape', '/ESCAPE', 'not-found'],
    ['under the root', '/UNDER', 'ok'],
  ] as const)('%s → %s', async (_n, raw, want) => {
    const path = raw === '/ESCAPE' ? `${kubelet}/pods/escape/x` : raw === '/UNDER' ? `${kubelet}/pods/p1/volumes` : raw;
    expect(await codeOf(resolveVolumePath('volume_path', path, kubelet))).toBe(want);
  });
});
