import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { compileTimeFilter, parseIsoMicros } from './time-filter.js';

const at = (iso: string): number => Date.parse(iso);

describe('3.60 time filters', () => {
  it('reads the ISO 8601 spellings oslo parse_isotime accepts, a time without zone as UTC', () => {
    const noon = at('2024-05-01T12:00:00Z') * 1000;
    expect(parseIsoMicros('2024-05-01T12:00:00')).toBe(noon);
    expect(parseIsoMicros('2024-05-01 12:00:00')).toBe(noon);
    expect(parseIsoMicros('2024-05-01T12:00')).toBe(noon);
    expect(parseIsoMicros('20240501T120000')).toBe(noon);
    expect(parseIsoMicros('2024-05-01T13:00:00+01:00')).toBe(noon);
    expect(parseIsoMicros('2024-05-01')).toBe(at('2024-05-01T00:00:00Z') * 1000);
    expect(parseIsoMicros('2024-05-01T12:00:00.1234567Z')).toBe(noon + 123_456);
    expect(parseIsoMicros('yesterday')).toBeNaN();
    expect(parseIsoMicros('2024-02-30T00:00:00')).toBeNaN();
  });

  it('joins the units with OR, as Cinder does', () => {
    const t = at('2024-05-01T12:00:00Z');
    const outside = compileTimeFilter('lt:2024-05-01T11:00:00,gt:2024-05-01T13:00:00');
    expect(outside(t)).toBe(false);
    expect(outside(t - 2 * 3_600_000)).toBe(true);
    expect(outside(t + 2 * 3_600_000)).toBe(true);
    expect(compileTimeFilter('gte:2024-05-01T12:00:00')(t)).toBe(true);
    expect(compileTimeFilter('gt:2024-05-01T12:00:00')(t)).toBe(false);
    expect(compileTimeFilter('eq:2024-05-01T12:00:00,neq:2024-05-01T12:00:00')(t)).toBe(true);
  });

  it('lets a repeated operator replace the earlier one', () => {
    const t = at('2024-05-01T12:00:00Z');
    expect(compileTimeFilter('gt:2024-05-01T13:00:00,gt:2024-05-01T11:00:00')(t)).toBe(true);
    expect(compileTimeFilter('gt:2024-05-01T11:00:00,gt:2024-05-01T13:00:00')(t)).toBe(false);
  });

  it('never matches a NULL column and compares at microseconds', () => {
    expect(compileTimeFilter('lt:2999-01-01T00:00:00,gt:1970-01-02T00:00:00')(null)).toBe(false);
    const t = at('2024-05-01T12:00:00.123Z');
    expect(compileTimeFilter('gte:2024-05-01T12:00:00.123001')(t)).toBe(false);
    expect(compileTimeFilter('gte:2024-05-01T12:00:00.123000')(t)).toBe(true);
  });

  it('refuses an unknown or missing operator and an unreadable time with Cinder\'s messages', () => {
    const err = (raw: string): string => {
      try {
        compileTimeFilter(raw);
      } catch (e) {
        expect(e).toBeInstanceOf(ApiError);
        return `${(e as ApiError).status} ${JSON.stringify((e as ApiError).body)}`;
      }
      return 'accepted';
    };
    const bad = (m: string): string => `400 ${JSON.stringify({ badRequest: { code: 400, message: m } })}`;
    expect(err('after:2024-05-01T12:00:00')).toBe(bad('Invalid after operator'));
    expect(err('2024-05-01T12:00:00')).toBe(bad('Invalid 2024-05-01T12 operator'));
    expect(err('gte:soon')).toBe(bad('Invalid soon value'));
    expect(err('gte')).toBe(bad('Invalid gte value'));
  });
});
