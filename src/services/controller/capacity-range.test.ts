import { describe, expect, it } from 'vitest';
import { DriverError, type ErrorKind } from '../../util/errors.js';
import { parseCapacityRange } from '../../csi/capacity-range.js';
import { chooseSizeGiB, gibToBytes, sizeSatisfies } from './capacity-range.js';

const GiB = 1024 ** 3;
const range = (required: number | string, limit: number | string = 0) => ({ required_bytes: String(required), limit_bytes: String(limit) });

function codeOf(fn: () => unknown): ErrorKind | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof DriverError ? e.kind : undefined;
  }
  return undefined;
}

describe('capacity range → whole GiB', () => {
  const ok: Array<[string, ReturnType<typeof range> | null, number, number]> = [
    ['no range → 1 GiB default', null, 1, 1],
    ['zeros → default', range(0, 0), 1, 1],
    ['1 byte rounds up', range(1), 1, 1],
    ['exact GiB', range(5 * GiB), 1, 5],
    ['one byte over rounds up', range(5 * GiB + 1), 1, 6],
    ['limit only, at least 1 GiB', range(0, 10 * GiB), 1, 1],
    ['exact limit', range(3 * GiB, 3 * GiB), 1, 3],
    ['source larger than request grows to source', range(1 * GiB), 4, 4],
    ['source larger, limit allows', range(1 * GiB, 4 * GiB), 4, 4],
    ['huge values stay exact', range('1125899906842624'), 1, 1048576],
  ];
  it.each(ok)('%s', (_n, r, min, want) => {
    expect(chooseSizeGiB(parseCapacityRange(r), min)).toBe(want);
  });

  const bad: Array<[string, ReturnType<typeof range>, number, ErrorKind]> = [
    ['limit below rounded size', range(GiB + 1, GiB + 100), 1, 'out-of-range'],
    ['limit below 1 GiB default', range(0, 512 * 1024 * 1024), 1, 'out-of-range'],
    ['limit below required', range(2 * GiB, GiB), 1, 'out-of-range'],
    ['limit below source size', range(GiB, 2 * GiB), 3, 'out-of-range'],
    ['negative required', range(-1), 1, 'invalid'],
    ['negative limit', range(0, -5), 1, 'invalid'],
    ['not a number', range('12x'), 1, 'invalid'],
  ];
  it.each(bad)('%s → error', (_n, r, min, code) => {
    expect(codeOf(() => chooseSizeGiB(parseCapacityRange(r), min))).toBe(code);
  });

  it('checks existing sizes against the range', () => {
    expect(sizeSatisfies(1, parseCapacityRange(range(GiB)))).toBe(true);
    expect(sizeSatisfies(2, parseCapacityRange(range(GiB)))).toBe(true);
    expect(sizeSatisfies(2, parseCapacityRange(range(GiB, GiB)))).toBe(false);
    expect(sizeSatisfies(1, parseCapacityRange(range(2 * GiB)))).toBe(false);
    expect(sizeSatisfies(1, parseCapacityRange(null))).toBe(true);
  });

  it('reports bytes as int64 strings', () => {
    expect(gibToBytes(1)).toBe(BigInt(GiB));
    expect(gibToBytes(10240)).toBe(10995116277760n);
  });
});
