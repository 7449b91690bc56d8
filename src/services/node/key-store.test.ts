import { mkdtemp, readFile, readdir, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { open, seal } from '../../util/seal.js';
import { loadOrCreateNodeKey, NODE_KEY_FILE } from './key-store.js';

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'node-key-'));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('loadOrCreateNodeKey', () => {
  it('creates the state dir 0700 and the key file 0600, with nothing else left behind', async () => {
    const dir = join(base, 'state', 'nested');
    await loadOrCreateNodeKey(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, NODE_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([NODE_KEY_FILE]);
    expect(await readFile(join(dir, NODE_KEY_FILE), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('reuses the key after a restart: a value sealed to the first key opens with the second', async () => {
    const first = await loadOrCreateNodeKey(base);
    const sealed = seal('chap-secret', first.publicKey, 'vol-1');
    const second = await loadOrCreateNodeKey(base);
    expect(second.publicKey).toBe(first.publicKey);
    expect(open(sealed, second, 'vol-1')).toBe('chap-secret');
  });

  it('makes a different key in another state dir', async () => {
    const a = await loadOrCreateNodeKey(join(base, 'a'));
    const b = await loadOrCreateNodeKey(join(base, 'b'));
    expect(a.publicKey).not.toBe(b.publicKey);
  });

  it('fails at start, naming the file, when the key is corrupt — and does not replace it', async () => {
    const path = join(base, NODE_KEY_FILE);
    await writeFile(path, 'not a key', { mode: 0o600 });
    await expect(loadOrCreateNodeKey(base)).rejects.toThrow(new RegExp(`${NODE_KEY_FILE}.*corrupt`));
    expect(await readFile(path, 'utf8')).toBe('not a key');
  });

  it('refuses a key of another type', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeFile(join(base, NODE_KEY_FILE), ed, { mode: 0o600 });
    await expect(loadOrCreateNodeKey(base)).rejects.toThrow(/X25519/);
  });

  it('tightens a key file and state dir that others could read', async () => {
    await loadOrCreateNodeKey(base);
    await chmod(join(base, NODE_KEY_FILE), 0o644);
    await chmod(base, 0o755);
    await loadOrCreateNodeKey(base);
    expect((await stat(join(base, NODE_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(base)).mode & 0o777).toBe(0o700);
  });

  it('two starts racing end with one key', async () => {
    const [a, b] = await Promise.all([loadOrCreateNodeKey(base), loadOrCreateNodeKey(base)]);
    expect(a.publicKey).toBe(b.publicKey);
    expect(await readdir(base)).toEqual([NODE_KEY_FILE]);
  });
});
