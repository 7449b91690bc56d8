import type { CinderContext } from './env.js';
import { badRequest, type ApiError } from './errors.js';
import type { ApiRequest } from './http.js';
import { atLeast } from './microversion.js';
import { compileTimeFilter } from './time-filter.js';
import { boolFromString } from './validate.js';

/**
 * Listing as Cinder does it: filters, sort (newest first by default), marker/limit/offset paging,
 * a `next` link whenever a page is full (so a full last page still has one and the next page is
 * empty), `count` with `with_count` from 3.45 — and the quirk that an unknown query parameter is
 * a filter on a column that does not exist, so an admin gets an empty list (a non-admin gets
 * 400 from 3.34, and has it silently dropped before).
 */

const MAX_LIMIT = 1000;

export interface Listable {
  id: string;
  seq: number;
  createdAt: number;
  updatedAt?: number | null;
}

export interface ListSpec<T extends Listable> {
  /** Filters the resource-filter configuration allows non-admins. */
  allowedFilters: string[];
  /** Extra column names admins may filter on (anything else matches nothing). */
  adminColumns?: string[];
  /** Value of a filter/sort field; undefined = unknown field. */
  field(item: T, key: string): unknown;
  /** For the marker: look it up among everything the caller may see (not just the filtered page). */
  find(id: string): T | undefined;
  markerNotFound(id: string): ApiError;
  /** Path of the collection for the next link, e.g. "volumes/detail". */
  collection: string;
  /** Name of the links key, e.g. "volumes_links"; omit for collections without links (attachments). */
  linksKey?: string;
}

export interface ListResult<T> {
  items: T[];
  links?: Array<{ rel: string; href: string }>;
  count?: number;
}

function intParam(name: string, raw: string | null): number | undefined {
  if (raw === null) return undefined;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw badRequest(`${name} param must be an integer`);
  const n = parseInt(raw, 10);
  if (n < 0) throw badRequest(`${name} param must be positive`);
  return n;
}

function parseSort(params: URLSearchParams): Array<{ key: string; dir: 'asc' | 'desc' }> {
  const out: Array<{ key: string; dir: 'asc' | 'desc' }> = [];
  const sort = params.get('sort');
  const checkDir = (d: string): 'asc' | 'desc' => {
    const low = d.toLowerCase();
    if (low !== 'asc' && low !== 'desc') throw badRequest("Unknown sort direction, must be 'desc' or 'asc'");
    return low;
  };
  if (sort !== null) {
    for (const part of sort.split(',')) {
      const [key, dir] = part.split(':');
      if (key) out.push({ key: key.trim(), dir: checkDir(dir?.trim() || 'desc') });
    }
  } else {
    const keys = params.get('sort_key');
    if (keys !== null) {
      const dirs = (params.get('sort_dir') ?? 'desc').split(',');
      keys.split(',').forEach((k, i) => out.push({ key: k.trim(), dir: checkDir(dirs[i] ?? dirs[dirs.length - 1] ?? 'desc') }));
    }
  }
  if (!out.some((s) => s.key === 'created_at')) out.push({ key: 'created_at', dir: 'desc' });
  return out;
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

function parseMetadataFilter(raw: string): Record<string, unknown> | undefined {
  for (const text of [raw, raw.replace(/'/g, '"')]) {
    try {
      const v = JSON.parse(text) as unknown;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // try the next spelling (Cinder evaluates a Python literal)
    }
  }
  return undefined;
}

type Predicate<T> = (item: T) => boolean;

const TIME_KEYS = ['created_at', 'updated_at'];

/** One filter as a predicate; the time filters are parsed here, so a bad one is a 400 even on an empty list. */
function compile<T extends Listable>(key: string, raw: string, spec: ListSpec<T>): Predicate<T> {
  if (TIME_KEYS.includes(key)) {
    const test = compileTimeFilter(raw);
    return (item) => test(key === 'created_at' ? item.createdAt : item.updatedAt);
  }
  if (key === 'metadata') {
    // Parsed once per request, not once per listed item.
    const want = parseMetadataFilter(raw);
    const pairs = want ? Object.entries(want).map(([k, v]) => [k, String(v)] as const) : undefined;
    return (item) => {
      const have = spec.field(item, 'metadata') as Record<string, string> | undefined;
      return !!pairs && !!have && pairs.every(([k, v]) => have[k] === v);
    };
  }
  return (item) => matches(item, key, raw, spec);
}

function matches<T extends Listable>(item: T, key: string, raw: string, spec: ListSpec<T>): boolean {
  const v = spec.field(item, key);
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v === boolFromString(raw);
  if (v === null) return false;
  return String(v) === raw;
}

const PAGING_KEYS = ['limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir'];

export function listItems<T extends Listable>(
  req: ApiRequest,
  ctx: CinderContext,
  all: T[],
  spec: ListSpec<T>,
): ListResult<T> {
  const params = req.query;
  const limit = intParam('limit', params.get('limit'));
  const offset = intParam('offset', params.get('offset'));
  const marker = params.get('marker');
  const sort = parseSort(params);
  let withCount = false;

  const filters: Array<[string, string]> = [];
  const invalid: string[] = [];
  let emptyResult = false;
  for (const [key, value] of params) {
    if (PAGING_KEYS.includes(key)) continue;
    if (key === 'with_count' && atLeast(ctx.version, '3.45')) {
      withCount = boolFromString(value);
      continue;
    }
    if (key === 'all_tenants') continue;
    // The time filters are documented from 3.60, but Cinder (Zed, seen on the real server) only
    // drops them below 3.31, where the legacy filter path runs; from 3.31 the generic resource
    // filter path lets them through and they apply. Clients must still gate on 3.60: releases
    // older than the filters' parser treat `gte:…` as a literal value and match nothing.
    if (TIME_KEYS.includes(key) && spec.allowedFilters.includes(key) && !atLeast(ctx.version, '3.31')) continue;
    if (spec.allowedFilters.includes(key)) {
      filters.push([key, value]);
      continue;
    }
    if (ctx.isAdmin) {
      if (spec.adminColumns?.includes(key)) filters.push([key, value]);
      // An admin's unknown parameter becomes a filter on a column that does not exist: no rows.
      else emptyResult = true;
    } else if (atLeast(ctx.version, '3.34')) {
      invalid.push(key);
    }
  }
  if (invalid.length > 0) throw badRequest(`Invalid filters ${invalid.join(',')} are found in query options.`);

  const predicates = filters.map(([k, v]) => compile(k, v, spec));
  let items = emptyResult ? [] : all.filter((it) => predicates.every((p) => p(it)));
  const cmp = (a: T, b: T): number => {
    for (const s of sort) {
      const c = compareValues(spec.field(a, s.key) ?? (s.key === 'created_at' ? a.createdAt : undefined), spec.field(b, s.key) ?? (s.key === 'created_at' ? b.createdAt : undefined));
      if (c !== 0) return s.dir === 'asc' ? c : -c;
    }
    const dir = sort[sort.length - 1]?.dir === 'asc' ? 1 : -1;
    return (a.seq - b.seq) * dir;
  };
  items.sort(cmp);
  const count = items.length;

  if (marker !== null) {
    const m = spec.find(marker);
    if (!m) throw spec.markerNotFound(marker);
    items = items.filter((it) => cmp(it, m) > 0);
  }
  if (offset) items = items.slice(offset);
  const effLimit = Math.min(limit ?? MAX_LIMIT, MAX_LIMIT);
  items = items.slice(0, effLimit);

  const result: ListResult<T> = { items };
  if (spec.linksKey && effLimit > 0 && items.length === effLimit) {
    const last = items[items.length - 1];
    if (last) {
      const next = new URLSearchParams(params);
      next.delete('marker');
      next.append('marker', last.id);
      result.links = [{ rel: 'next', href: `${req.origin}/v3/${ctx.projectId}/${spec.collection}?${next.toString()}` }];
    }
  }
  if (withCount) result.count = count;
  return result;
}
