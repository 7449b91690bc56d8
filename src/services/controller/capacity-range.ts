import { outOfRange } from '../../util/errors.js';
import { GIB } from './constants.js';
import type { SizeRequest } from './requests.js';

/** Cinder sizes are whole GiB; a volume without a requested size gets one. */
export const DEFAULT_SIZE_GIB = 1;

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

/** A whole-GiB Cinder size in bytes (the edge writes it as an int64 string). */
export function gibToBytes(sizeGiB: number): bigint {
  return BigInt(sizeGiB) * GIB;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
