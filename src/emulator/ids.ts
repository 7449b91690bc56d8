import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** Identifiers in the shapes OpenStack uses: UUIDv4 for Cinder objects, 32 hex digits for Keystone. */

export function newUuid(): string {
  return randomUUID();
}

export function newHexId(): string {
  return randomBytes(16).toString('hex');
}

/** A stable 32-hex id derived from a seed, so that named objects keep their id across restarts. */
export function stableHexId(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 32);
}

/** A stable UUID-shaped id (version 4 bits set) derived from a seed. */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const variant = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** oslo's is_uuid_like: hyphens optional, any case. */
export function isUuidLike(value: string): boolean {
  return UUID_RE.test(value);
}

const ALNUM = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** Like Cinder's volume_utils.generate_password/username: letters and digits without look-alikes. */
export function randomSecret(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}

/** A token that looks like a Keystone fernet token (gAAAAA…, url-safe base64, ~180 chars). */
export function newFernetLikeToken(): string {
  return `gAAAAA${randomBytes(135).toString('base64url')}`;
}
