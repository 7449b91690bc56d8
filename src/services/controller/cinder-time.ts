/**
 * Cinder timestamps: ISO 8601 in UTC, usually without a zone suffix and with microseconds
 * ("2024-05-01T10:00:00.123456"). Parsed as UTC; sub-millisecond digits kept for protobuf.
 */
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

export interface CinderTime {
  /** Epoch milliseconds (whole). */
  ms: number;
  /** Nanoseconds within the second. */
  nanos: number;
}

export function parseCinderTime(text: string | undefined): CinderTime | undefined {
  if (!text) return undefined;
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const zone = m[3] ?? 'Z';
  const whole = Date.parse(`${m[1]}${zone === 'Z' ? 'Z' : zone}`);
  if (Number.isNaN(whole)) return undefined;
  const nanos = Number((m[2] ?? '').padEnd(9, '0'));
  return { ms: whole + Math.floor(nanos / 1e6), nanos };
}
