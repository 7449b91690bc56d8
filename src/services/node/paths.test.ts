import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, CsiError } from '../../util/errors.js';
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

async function codeOf(p: Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof CsiError) return err.code;
    throw err;
  }
}

describe('resolveUnderKubelet', () => {
  const cases: [string, () => string | undefined, Code | 'ok'][] = [
    ['missing', () => undefined, Code.INVALID_ARGUMENT],
    ['empty', () => '', Code.INVALID_ARGUMENT],
    ['relative', () => 'pods/p1/volumes/x', Code.INVALID_ARGUMENT],
    ['dot-dot inside the root', () => `${kubelet}/pods/../pods/p1/x`, Code.INVALID_ARGUMENT],
    ['dot-dot leaving the root', () => `${kubelet}/../elsewhere/x`, Code.INVALID_ARGUMENT],
    ['outside the root', () => `${outside}/x`, Code.INVALID_ARGUMENT],
    ['the root itself', () => kubelet, Code.INVALID_ARGUMENT],
    ['a sibling sharing the prefix', () => `${kubelet}-evil/x`, Code.INVALID_ARGUMENT],
    ['NUL byte', () => `${kubelet}/pods/a\0b`, Code.INVALID_ARGUMENT],
    ['symlink escape (existing)', () => `${kubelet}/pods/escape`, Code.INVALID_ARGUMENT],
    ['symlink escape (below, not yet created)', () => `${kubelet}/pods/escape/new/target`, Code.INVALID_ARGUMENT],
    ['dangling symlink', () => `${kubelet}/pods/dangling`, Code.INVALID_ARGUMENT],
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
    expect(await codeOf(resolveUnderKubelet('p', `${link}/pods/escape/x`, link))).toBe(Code.INVALID_ARGUMENT);
  });

  it('fails as INTERNAL when the kubelet root does not exist (configuration error)', async () => {
    expect(await codeOf(resolveUnderKubelet('p', `${base}/nope/x/y`, `${base}/nope`))).toBe(Code.INTERNAL);
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
    ['missing', '', Code.INVALID_ARGUMENT],
    ['relative (csi-sanity "some/path")', 'some/path', Code.NOT_FOUND],
    ['outside the root', '/etc', Code.NOT_FOUND],
    ['symlink escape', '/ESCAPE', Code.NOT_FOUND],
    ['under the root', '/UNDER', 'ok'],
  ] as const)('%s → %s', async (_n, raw, want) => {
    const path = raw === '/ESCAPE' ? `${kubelet}/pods/escape/x` : raw === '/UNDER' ? `${kubelet}/pods/p1/volumes` : raw;
    expect(await codeOf(resolveVolumePath('volume_path', path, kubelet))).toBe(want);
  });
});
