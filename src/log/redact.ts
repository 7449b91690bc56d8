/**
 * The single redaction layer: every log line passes through `redact` (see logger.ts), and so do
 * error details returned to callers. Keys are matched by name at any depth.
 */
export const REDACTED = '[REDACTED]';

const SECRET_KEY =
  /(pass(word)?|passwd|token|secret|keyring|credential|auth_password|x-auth-token|x-subject-token|authorization|chap|^key$|private)/i;
/** CSI request fields that carry secrets maps: the whole map is hidden, keys included. */
const SECRET_MAP_KEY = /^secrets$|Secrets$/;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || SECRET_MAP_KEY.test(key);
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 12) return '[DEPTH]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) return redactError(value, depth);
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (isSecretKey(k)) {
        out[k] = v === undefined || v === null || v === '' ? v : REDACTED;
      } else {
        out[k] = redact(v, depth + 1);
      }
    }
    return out;
  }
  return value;
}

function redactError(err: Error, depth: number): Record<string, unknown> {
  const plain: Record<string, unknown> = { type: err.name, message: err.message };
  for (const [k, v] of Object.entries(err)) plain[k] = v;
  if (err.stack) plain.stack = err.stack;
  return redact(plain, depth + 1) as Record<string, unknown>;
}
