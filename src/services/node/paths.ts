import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { DriverError, internal, invalidArgument, notFound } from '../../util/errors.js';

/**
 * Paths in node requests (staging and target paths) are where this privileged plugin mounts,
 * creates and removes things, so each must stay under the kubelet root (CSI drivers
 * had `../` traversals, CVE-2026-3864/3865):
 * - absolute, no `..` segment, no NUL;
 * - lexically under the kubelet root (as configured, or its real path);
 * - the deepest part that exists, with every symlink resolved, still under the real kubelet
 *   root — a symlink planted inside the root cannot send a mount elsewhere.
 * Returns the path with its existing part resolved, which is what callers then operate on.
 */
export async function resolveUnderKubelet(field: string, raw: string | undefined, kubeletDir: string): Promise<string> {
  if (raw === undefined || raw === '') throw invalidArgument(`${field} is required`);
  if (raw.includes('\0')) throw invalidArgument(`${field} contains a NUL character`);
  if (!isAbsolute(raw)) throw invalidArgument(`${field} ${JSON.stringify(raw)} must be an absolute path`);
  if (raw.split('/').includes('..')) throw invalidArgument(`${field} ${JSON.stringify(raw)} must not contain ".."`);

  const lexical = resolve(raw);
  const rootLexical = resolve(kubeletDir);
  const rootReal = await realRoot(kubeletDir);
  if (!isStrictlyUnder(lexical, rootLexical) && !isStrictlyUnder(lexical, rootReal)) {
    throw invalidArgument(`${field} ${JSON.stringify(raw)} is not under the kubelet directory ${rootLexical}`);
  }

  const { existing, rest } = await deepestExisting(lexical);
  let real: string;
  try {
    real = await realpath(existing);
  } catch {
    // lstat saw it but it does not resolve: a dangling symlink, whose target a write would create.
    throw invalidArgument(`${field} ${JSON.stringify(raw)} goes through a dangling symlink at ${existing}`);
  }
  const final = rest.length ? join(real, ...rest) : real;
  if (!isStrictlyUnder(final, rootReal)) {
    throw invalidArgument(`${field} ${JSON.stringify(raw)} resolves to ${final}, outside the kubelet directory ${rootReal}`);
  }
  return final;
}

async function realRoot(kubeletDir: string): Promise<string> {
  try {
    return await realpath(kubeletDir);
  } catch (err) {
    throw internal(`the kubelet directory ${kubeletDir} cannot be resolved: ${(err as Error).message}`, err);
  }
}

/** lstat upwards until something exists; `rest` are the missing components below it. */
async function deepestExisting(path: string): Promise<{ existing: string; rest: string[] }> {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      await lstat(current);
      return { existing: current, rest };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    }
    const up = dirname(current);
    if (up === current) return { existing: current, rest };
    rest.unshift(basename(current));
    current = up;
  }
}

/** `child` is a proper descendant of `parent` (both normalised absolute paths). */
export function isStrictlyUnder(child: string, parent: string): boolean {
  const p = parent.endsWith(sep) ? parent : parent + sep;
  return child.startsWith(p) && child.length > p.length;
}

/**
 * For the read-only lookups (NodeGetVolumeStats, NodeExpandVolume): volume_path names where a
 * volume is expected. A path outside the kubelet root cannot hold one of ours, so it is
 * NOT_FOUND (as csi-sanity expects for e.g. "some/path"), not INVALID_ARGUMENT; only a missing
 * field is INVALID_ARGUMENT.
 */
export async function resolveVolumePath(field: string, raw: string | undefined, kubeletDir: string): Promise<string> {
  if (raw === undefined || raw === '') throw invalidArgument(`${field} is required`);
  try {
    return await resolveUnderKubelet(field, raw, kubeletDir);
  } catch (err) {
    if (err instanceof DriverError && err.kind === 'invalid') throw notFound(`no volume can be at ${field}: ${err.message}`);
    throw err;
  }
}
