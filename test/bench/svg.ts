import { percentile } from './lib.js';

/**
 * A hand-written SVG strip chart: one row per overhead distribution, every sample a dot on a
 * log-scaled millisecond axis, with the p50 and p99 marked and the 100/300 ms targets drawn.
 */
export function renderSvg(series: Array<{ label: string; values: number[] }>): string {
  const W = 900;
  const left = 190;
  const right = 30;
  const rowH = 36;
  const top = 40;
  const H = top + series.length * rowH + 50;
  const lo = 1;
  const hi = 10_000;
  const x = (v: number): number => left + ((Math.log10(Math.min(hi, Math.max(lo, v))) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (W - left - right);
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">Overhead after Cinder's transition (ms, log scale); | = p50, ◆ = p99</text>`);
  for (const t of [1, 10, 100, 1000, 10_000]) {
    out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${top - 5}" y2="${H - 40}" stroke="#ddd"/>`);
    out.push(`<text x="${x(t)}" y="${H - 25}" text-anchor="middle">${t}</text>`);
  }
  for (const [t, c] of [[100, '#2a2'], [300, '#d80']] as const) {
    out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${top - 5}" y2="${H - 40}" stroke="${c}" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${x(t) + 3}" y="${top - 8}" fill="${c}">${t} ms target</text>`);
  }
  series.forEach((s, i) => {
    const y = top + i * rowH + rowH / 2;
    out.push(`<text x="${left - 8}" y="${y + 4}" text-anchor="end">${esc(s.label)} (n=${s.values.length})</text>`);
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y}" y2="${y}" stroke="#f0f0f0"/>`);
    s.values.forEach((v, j) => {
      const jitter = ((j * 7919) % 17) - 8;
      out.push(`<circle cx="${x(v).toFixed(1)}" cy="${(y + jitter * 0.9).toFixed(1)}" r="2" fill="#36c" fill-opacity="0.45"/>`);
    });
    const sorted = [...s.values].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    out.push(`<line x1="${x(p50)}" x2="${x(p50)}" y1="${y - 13}" y2="${y + 13}" stroke="#c00" stroke-width="3"/>`);
    out.push(`<path d="M ${x(p99)} ${y - 6} l 6 6 l -6 6 l -6 -6 z" fill="#800"/>`);
    out.push(`<text x="${W - right}" y="${y - 10}" text-anchor="end" fill="#555">p50 ${p50.toFixed(0)} / p99 ${p99.toFixed(0)} ms</text>`);
  });
  out.push(`<text x="${left + (W - left - right) / 2}" y="${H - 8}" text-anchor="middle">ms (values ≤ 1 drawn at 1)</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
