import type { CapacityRange__Output } from '../../generated/csi/v1/CapacityRange.js';
import { invalidArgument, outOfRange } from '../../util/errors.js';
import { GIB } from './constants.js';

/** A CSI capacity range in bytes; 0 means "not set", as in the proto. */
export interface SizeRequest {
  requiredBytes: bigint;
  limitBytes: bigint;
}

/** Cinder sizes are whole GiB; a volume without a requested size gets one. */
export const DEFAULT_SIZE_GIB = 1;

function int64(value: string | undefined, field: string): bigint {
  if (value === undefined || value === '') return 0n;
  let n: bigint;
  try {
    n = BigInt(value);
  } catch {
    throw invalidArgument(`${field} is not an integer`);
  }
  if (n < 0n) throw invalidArgument(`${field} must not be negative (got ${value})`);
  return n;
}

export function parseCapacityRange(range: CapacityRange__Output | null | undefined): SizeRequest {
  const requiredBytes = int64(range?.required_bytes, 'capacity_range.required_bytes');
  const limitBytes = int64(range?.limit_bytes, 'capacity_range.limit_bytes');
  if (limitBytes > 0n && limitBytes < requiredBytes) {
    throw outOfRange(`capacity_range.limit_bytes (${limitBytes}) is below required_bytes (${requiredBytes})`);
  }
  return { requiredBytes, limitBytes };
}

/**
 * The whole number of GiB to ask Cinder for: the request rounded up (a volume may be larger than
 * required_bytes, never smaller), at least `minGiB` (a restore or clone cannot shrink its
 * source), and within limit_bytes — otherwise OUT_OF_RANGE, as the spec asks for a capacity
 * range the plugin cannot honour.
 */
export function chooseSizeGiB(req: SizeRequest, minGiB = DEFAULT_SIZE_GIB): number {
  const wanted = req.requiredBytes > 0n ? ceilDiv(req.requiredBytes, GIB) : BigInt(DEFAULT_SIZE_GIB);
  const size = wanted > BigInt(minGiB) ? wanted : BigInt(minGiB);
  if (req.limitBytes > 0n && size * GIB > req.limitBytes) {
    const why = size > wanted ? ` (the source is ${minGiB} GiB)` : '';
    throw outOfRange(
      `volumes are allocated in whole GiB: ${size} GiB${why} exceeds capacity_range.limit_bytes ${req.limitBytes}`,
    );
  }
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw outOfRange('requested capacity is too large');
  return Number(size);
}

/** Whether an existing volume of `sizeGiB` honours the range (idempotent CreateVolume). */
export function sizeSatisfies(sizeGiB: number, req: SizeRequest): boolean {
  const bytes = BigInt(sizeGiB) * GIB;
  if (bytes < req.requiredBytes) return false;
  return req.limitBytes === 0n || bytes <= req.limitBytes;
}

/** int64 bytes as the generated types carry them (strings, --longs=String). */
export function gibToBytes(sizeGiB: number): string {
  return (BigInt(sizeGiB) * GIB).toString();
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
