import { execa } from 'execa';
import { constants } from 'node:fs';
import { copyFile, open, rm, truncate } from 'node:fs/promises';

/**
 * The local backend's storage: one sparse file per volume and per snapshot, like the test driver of
 * the real-Cinder harness (csi_test_driver.py). Copies must keep the data (restore and clone are
 * checked byte for byte) without inflating 1 GiB of holes, hence `cp --sparse=always
 * --reflink=auto` and, where cp is missing, a chunked copy that skips all-zero chunks.
 */

export const GiB = 1024 * 1024 * 1024;

export async function createSparse(path: string, sizeGiB: number): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.truncate(sizeGiB * GiB);
  } finally {
    await fh.close();
  }
}

export async function resizeFile(path: string, sizeGiB: number): Promise<void> {
  await truncate(path, sizeGiB * GiB);
}

export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

async function cpSparse(src: string, dst: string): Promise<boolean> {
  // The emulator stands apart from the driver (it may not import its Exec seam); an argv array,
  // no shell, and a bound on the time are what matter here.
  const r = await execa('cp', ['--sparse=always', '--reflink=auto', src, dst], { reject: false, timeout: 120_000 });
  return r.exitCode === 0;
}

const CHUNK = 4 * 1024 * 1024;
const ZERO = Buffer.alloc(CHUNK);

/** The copy used where `cp` is missing: reads everything (~1.4 s/GiB) but writes only non-zero chunks. Exported for its test. */
export async function chunkedSparseCopy(src: string, dst: string): Promise<void> {
  const input = await open(src, 'r');
  const output = await open(dst, 'w', 0o600);
  try {
    const { size } = await input.stat();
    const buf = Buffer.alloc(CHUNK);
    for (let pos = 0; pos < size; pos += CHUNK) {
      const { bytesRead } = await input.read(buf, 0, Math.min(CHUNK, size - pos), pos);
      const chunk = buf.subarray(0, bytesRead);
      // Native comparison: a byte loop in JS would take seconds per GiB.
      if (!chunk.equals(ZERO.subarray(0, bytesRead))) await output.write(chunk, 0, bytesRead, pos);
    }
    await output.truncate(size);
  } finally {
    await input.close();
    await output.close();
  }
}

/** Copies src to dst (data and holes), then grows dst to `sizeGiB` when that is larger. */
export async function copySparse(src: string, dst: string, sizeGiB: number): Promise<void> {
  await rm(dst, { force: true });
  if (!(await cpSparse(src, dst))) {
    try {
      // A reflink is instant and shares blocks; without one, fall back to a hole-preserving copy.
      await copyFile(src, dst, constants.COPYFILE_FICLONE_FORCE);
    } catch {
      await chunkedSparseCopy(src, dst);
    }
  }
  const fh = await open(dst, 'r+');
  try {
    const { size } = await fh.stat();
    if (size < sizeGiB * GiB) await fh.truncate(sizeGiB * GiB);
  } finally {
    await fh.close();
  }
}
