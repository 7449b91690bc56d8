/**
 * Time stamps in the formats the real services print, and a precise clock for the transition
 * records (benchmarks compare transitions against driver-side timings at sub-ms resolution).
 */

/** Epoch milliseconds with sub-millisecond precision. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms)).toISOString().slice(0, 19);
}

function micros(ms: number): string {
  const frac = ms - Math.floor(ms / 1000) * 1000;
  return String(Math.min(999_999, Math.floor(frac * 1000))).padStart(6, '0');
}

/** Cinder (oslo jsonutils) datetime: "2024-05-01T12:00:00.123456", naive UTC. */
export function cinderTime(ms: number): string {
  return `${isoSeconds(ms)}.${micros(ms)}`;
}

/** Keystone token time: "2024-05-01T12:00:00.123456Z". */
export function keystoneTime(ms: number): string {
  return `${cinderTime(ms)}Z`;
}
