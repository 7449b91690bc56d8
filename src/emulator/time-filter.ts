import { badRequest } from './errors.js';

/**
 * The `created_at`/`updated_at` comparison filters of microversion 3.60 (volume lists only), as Cinder reads them
 * (cinder/api/v3/volumes.py and db/sqlalchemy/api.py): `updated_at=gte:2024-05-01T12:00:00`,
 * several comma-separated `op:time` units, each operator at most once (a repeated operator
 * replaces the earlier one) and — unlike what one might guess — the units joined with OR.
 * The operator is mandatory: an unknown one is 400 "Invalid <op> operator", an unreadable time
 * 400 "Invalid <time> value". Times are ISO 8601; one without a zone is UTC. A volume whose
 * column is NULL (never updated) matches no unit, as in SQL. Compared at microseconds, the
 * precision Cinder stores and prints.
 */

const OPERATORS = ['gt', 'gte', 'eq', 'neq', 'lt', 'lte'] as const;
type Operator = (typeof OPERATORS)[number];

const ISO = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Epoch microseconds of an ISO 8601 time (no zone = UTC); NaN when unreadable. */
export function parseIsoMicros(text: string): number {
  const m = ISO.exec(text.trim());
  if (!m) return NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (Number.isNaN(ms) || check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return NaN;
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) return NaN;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? '0'));
  }
  const micros = Number(frac.slice(0, 6).padEnd(6, '0'));
  return (ms - offsetMin * 60_000) * 1000 + micros;
}

/** Compiles one filter value; throws Cinder's 400 for a bad operator or time. */
export function compileTimeFilter(raw: string): (valueMs: number | null | undefined) => boolean {
  const units = new Map<Operator, number>();
  for (const unit of raw.split(',')) {
    const parts = unit.split(':');
    const op = parts[0] ?? '';
    // Cinder joins everything after the first colon back together (the time has colons too);
    // a unit without a colon is its own time.
    const time = parts.length > 1 ? parts.slice(1).join(':') : op;
    if (!(OPERATORS as readonly string[]).includes(op)) throw badRequest(`Invalid ${op} operator`);
    const t = parseIsoMicros(time);
    if (Number.isNaN(t)) throw badRequest(`Invalid ${time} value`);
    units.set(op as Operator, t);
  }
  return (valueMs) => {
    if (valueMs === null || valueMs === undefined) return false;
    const v = Math.round(valueMs * 1000);
    for (const [op, t] of units) {
      const ok = op === 'gt' ? v > t : op === 'gte' ? v >= t : op === 'lt' ? v < t : op === 'lte' ? v <= t : op === 'neq' ? v !== t : v === t;
      if (ok) return true;
    }
    return false;
  };
}
