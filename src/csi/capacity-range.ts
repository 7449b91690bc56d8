import type { CapacityRange__Output } from '../generated/csi/v1/CapacityRange.js';
import type { SizeRequest } from '../services/controller/requests.js';
import { invalidArgument, outOfRange } from '../util/errors.js';

/** An int64 field as grpc-js hands it (a decimal string); empty = 0. */
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

/**
 * A CSI capacity range, read once for both halves: both ends as int64 (0 = not set); a limit
 * below the requirement is OUT_OF_RANGE.
 */
export function parseCapacityRange(range: CapacityRange__Output | null | undefined): SizeRequest {
  const requiredBytes = int64(range?.required_bytes, 'capacity_range.required_bytes');
  const limitBytes = int64(range?.limit_bytes, 'capacity_range.limit_bytes');
  if (limitBytes > 0n && limitBytes < requiredBytes) {
    throw outOfRange(`capacity_range.limit_bytes (${limitBytes}) is below required_bytes (${requiredBytes})`);
  }
  return { requiredBytes, limitBytes };
}

