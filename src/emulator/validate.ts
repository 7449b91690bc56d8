import { badRequest, type ApiError } from './errors.js';
import { isUuidLike } from './ids.js';

/**
 * Request-body validation that reproduces Cinder's jsonschema messages, e.g.
 * "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1".
 * Values are printed the way Python prints them (repr), because that is what the real server shows.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pyString(s: string): string {
  if (s.includes("'") && !s.includes('"')) return `"${s}"`;
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Python repr() of a JSON value. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === 'string') return pyString(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyString(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/** Python str() of a value as jsonschema puts it after "Value: " (strings unquoted). */
function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** "Invalid input for field/attribute <field>. Value: <value>. <message>" */
export function fieldError(field: string, value: unknown, message: string): ApiError {
  return badRequest(`Invalid input for field/attribute ${field}. Value: ${pyStr(value)}. ${message}`);
}

/** A missing top-level key: jsonschema reports it without a path. */
export function requireTopLevel(body: unknown, key: string): JsonObject {
  if (!isObject(body)) throw badRequest(`${pyRepr(body)} is not of type 'object'`);
  const inner = body[key];
  if (inner === undefined) throw badRequest(`'${key}' is a required property`);
  if (!isObject(inner)) throw fieldError(key, inner, `${pyRepr(inner)} is not of type 'object'`);
  return inner;
}

export function requireKeys(container: string, obj: JsonObject, keys: string[]): void {
  for (const k of keys) {
    if (obj[k] === undefined) throw fieldError(container, obj, `'${k}' is a required property`);
  }
}

/** additionalProperties: false */
export function rejectUnknownKeys(container: string, obj: JsonObject, allowed: string[]): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (extra.length === 0) return;
  const list = extra.map((k) => `'${k}'`).join(', ');
  throw fieldError(
    container,
    obj,
    `Additional properties are not allowed (${list} ${extra.length === 1 ? 'was' : 'were'} unexpected)`,
  );
}

export function optionalString(field: string, v: Json | undefined, maxLength = 255): string | null | undefined {
  if (v === undefined || v === null) return v;
  if (typeof v !== 'string') throw fieldError(field, v, `${pyRepr(v)} is not of type 'string', 'null'`);
  if (v.length > maxLength) throw fieldError(field, v, `${pyRepr(v)} is too long`);
  return v;
}

export function uuidField(field: string, v: Json | undefined, nullable: boolean): string | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) {
    if (nullable) return null;
    throw fieldError(field, v, `None is not of type 'string'`);
  }
  if (typeof v !== 'string') throw fieldError(field, v, `${pyRepr(v)} is not of type 'string'`);
  if (!isUuidLike(v)) throw fieldError(field, v, `${pyRepr(v)} is not a 'uuid'`);
  return v;
}

/** parameter_types.volume_size: integer or digit string, minimum 1 (the minimum only checks integers). */
export function sizeField(field: string, v: Json | undefined): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw fieldError(field, v, `${pyRepr(v)} is not of type 'integer', 'string'`);
    if (v < 1) throw fieldError(field, v, `${v} is less than the minimum of 1`);
    return v;
  }
  if (typeof v === 'string') {
    if (!/^[0-9]+$/.test(v)) throw fieldError(field, v, `${pyRepr(v)} does not match '^[0-9]+$'`);
    return parseInt(v, 10);
  }
  throw fieldError(field, v, `${pyRepr(v)} is not of type 'integer', 'string'`);
}

/** Metadata: an object of strings (keys 1..255 chars, values up to 255). */
export function metadataField(field: string, v: Json | undefined): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw fieldError(field, v, `${pyRepr(v)} is not of type 'object'`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw fieldError(k, x, `${pyRepr(x)} is not of type 'string'`);
    if (k.length < 1 || k.length > 255) throw fieldError(field, v, `${pyRepr(k)} does not match any of the regexes: '^[a-zA-Z0-9-_:. /]{1,255}$'`);
    if (x.length > 255) throw fieldError(k, x, `${pyRepr(x)} is too long`);
    out[k] = x;
  }
  return out;
}

const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];

/** oslo strutils.bool_from_string(strict=False): unknown strings are false. */
export function boolFromString(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1;
  if (typeof v === 'string') return TRUE_STRINGS.includes(v.trim().toLowerCase());
  return false;
}

/** parameter_types.boolean: a JSON boolean or one of the strings oslo accepts. */
export function strictBoolField(field: string, v: Json | undefined): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (TRUE_STRINGS.includes(s)) return true;
    if (FALSE_STRINGS.includes(s)) return false;
  }
  throw fieldError(
    field,
    v,
    `${pyRepr(v)} is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f']`,
  );
}
