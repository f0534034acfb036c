// Typed component configuration: each component declares its fields once (type, default, limits)
// and gets parsing, defaults and validation with errors that name the full key path and why,
// e.g. `processors.batch/fast.send_batch_size: must be a positive integer, got "ten"`.

import { ConfigError } from './config-error.js';

export { ConfigError };

export interface Schema<T> {
  /** Parses `raw` (undefined when the key is absent) found at `path`; throws ConfigError. */
  parse(raw: unknown, path: string): T;
  /** One-line description of what is expected, for error messages and docs. */
  readonly expects: string;
}
export type Infer<S> = S extends Schema<infer T> ? T : never;

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return String(v);
}
const join = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

function withDefault<T>(expects: string, def: T | undefined, check: (v: unknown, path: string) => T): Schema<T> {
  return {
    expects,
    parse(raw, path) {
      if (raw === undefined || raw === null) {
        if (def === undefined) throw new ConfigError(path, `is required (${expects})`);
        return def;
      }
      return check(raw, path);
    },
  };
}

export function str(def?: string, opts: { nonEmpty?: boolean } = {}): Schema<string> {
  return withDefault('a string', def, (v, p) => {
    if (typeof v !== 'string') throw new ConfigError(p, `must be a string, got ${show(v)}`);
    if (opts.nonEmpty && v === '') throw new ConfigError(p, 'must not be empty');
    return v;
  });
}

export function bool(def?: boolean): Schema<boolean> {
  return withDefault('true or false', def, (v, p) => {
    if (typeof v !== 'boolean') throw new ConfigError(p, `must be true or false, got ${show(v)}`);
    return v;
  });
}

export function int(def: number | undefined, opts: { min?: number; max?: number } = {}): Schema<number> {
  const { min, max } = opts;
  const what = min === 1 && max === undefined ? 'a positive integer'
    : min === 0 && max === undefined ? 'a non-negative integer'
    : `an integer${min !== undefined ? ` >= ${min}` : ''}${max !== undefined ? ` <= ${max}` : ''}`;
  return withDefault(what, def, (v, p) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || (min !== undefined && v < min) || (max !== undefined && v > max)) {
      throw new ConfigError(p, `must be ${what}, got ${show(v)}`);
    }
    return v;
  });
}

export function num(def: number | undefined, opts: { min?: number; max?: number; exclusiveMin?: boolean } = {}): Schema<number> {
  const what = `a number${opts.min !== undefined ? (opts.exclusiveMin ? ` > ${opts.min}` : ` >= ${opts.min}`) : ''}${opts.max !== undefined ? ` <= ${opts.max}` : ''}`;
  return withDefault(what, def, (v, p) => {
    const bad = typeof v !== 'number' || !Number.isFinite(v)
      || (opts.min !== undefined && (opts.exclusiveMin ? v <= opts.min : v < opts.min))
      || (opts.max !== undefined && v > opts.max);
    if (bad) throw new ConfigError(p, `must be ${what}, got ${show(v)}`);
    return v as number;
  });
}

export function oneOf<const T extends string>(values: readonly T[], def?: T): Schema<T> {
  const what = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return withDefault(what, def, (v, p) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new ConfigError(p, `must be ${what}, got ${show(v)}`);
    return v as T;
  });
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go-style duration ("200ms", "5s", "1m30s"); parsed to milliseconds. `0` is accepted as zero. */
export function duration(defMs?: number, opts: { min?: number } = {}): Schema<number> {
  const what = 'a duration like "200ms", "5s" or "1m"';
  return withDefault(what, defMs, (v, p) => {
    if (v === 0) {
      if (opts.min !== undefined && opts.min > 0) throw new ConfigError(p, `must be at least ${opts.min}ms, got 0`);
      return 0;
    }
    if (typeof v !== 'string') throw new ConfigError(p, `must be ${what}, got ${show(v)}`);
    const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((m) => m[0]).join('') !== v) throw new ConfigError(p, `must be ${what}, got ${show(v)}`);
    const ms = parts.reduce((acc, m) => acc + Number(m[1]) * DURATION_UNITS[m[2]!]!, 0);
    if (opts.min !== undefined && ms < opts.min) throw new ConfigError(p, `must be at least ${opts.min}ms, got ${show(v)}`);
    return ms;
  });
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** A byte size: an integer, or a string like "4MiB", "512KB". Parsed to bytes. */
export function byteSize(def?: number, opts: { min?: number } = {}): Schema<number> {
  const what = 'a byte size like 4194304, "4MiB" or "512KB"';
  return withDefault(what, def, (v, p) => {
    let n: number | undefined;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) n = v;
    else if (typeof v === 'string') {
      const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(v.trim());
      const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
      if (m && unit !== undefined) n = Math.round(Number(m[1]) * unit);
    }
    if (n === undefined) throw new ConfigError(p, `must be ${what}, got ${show(v)}`);
    if (opts.min !== undefined && n < opts.min) throw new ConfigError(p, `must be at least ${opts.min} bytes, got ${show(v)}`);
    return n;
  });
}

/** host:port to listen on or dial; the host may be empty (all interfaces) or bracketed IPv6. */
export function endpoint(def?: string): Schema<string> {
  const what = 'an endpoint "host:port"';
  return withDefault(what, def, (v, p) => {
    if (typeof v !== 'string') throw new ConfigError(p, `must be ${what}, got ${show(v)}`);
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s/]*):(\d{1,5})$/.exec(v);
    if (!m || Number(m[2]) > 65535) throw new ConfigError(p, `must be ${what} with a port 0-65535, got ${show(v)}`);
    return v;
  });
}

/** An http(s) URL. */
export function url(def?: string): Schema<string> {
  const what = 'an http:// or https:// URL';
  return withDefault(what, def, (v, p) => {
    if (typeof v !== 'string') throw new ConfigError(p, `must be ${what}, got ${show(v)}`);
    let u: URL;
    try { u = new URL(v); } catch { throw new ConfigError(p, `must be ${what}, got ${show(v)}`); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(p, `must be ${what}, got ${show(v)}`);
    return v;
  });
}

export function list<T>(of: Schema<T>, def?: T[], opts: { nonEmpty?: boolean } = {}): Schema<T[]> {
  return withDefault(`a list of ${of.expects}`, def, (v, p) => {
    if (!Array.isArray(v)) throw new ConfigError(p, `must be a list of ${of.expects}, got ${show(v)}`);
    if (opts.nonEmpty && v.length === 0) throw new ConfigError(p, 'must not be empty');
    return v.map((item, i) => of.parse(item, join(p, i)));
  });
}

/** A map of free keys to values of one schema (e.g. headers). */
export function record<T>(of: Schema<T>, def: Record<string, T> = {}): Schema<Record<string, T>> {
  return withDefault(`a map of ${of.expects}`, def, (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(p, `must be a map, got ${show(v)}`);
    const out: Record<string, T> = {};
    for (const [k, val] of Object.entries(v)) out[k] = of.parse(val, join(p, k));
    return out;
  });
}

/** Makes a field optional without a default: absent → undefined. */
export function optional<T>(of: Schema<T>): Schema<T | undefined> {
  return {
    expects: of.expects,
    parse: (raw, path) => (raw === undefined || raw === null ? undefined : of.parse(raw, path)),
  };
}

type Fields = Record<string, Schema<unknown>>;
export type ObjectOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

export interface ObjectSchema<T> extends Schema<T> {
  readonly fields: Fields;
}

/** How a map's errors read (the agent's config says "mapping" and "key", the collector's "map" and "field"). */
export interface MapWording {
  notAMap(got: string): string;
  unknownKey(known: string[]): string;
}
const COLLECTOR_WORDING: MapWording = {
  notAMap: (got) => `must be a map, got ${got}`,
  unknownKey: (known) => `unknown field (known fields: ${known.join(', ') || 'none'})`,
};

/**
 * A map with known keys. Unknown keys are an error (typos must not silently fall back to defaults);
 * `check` validates across fields after each parsed and throws ConfigError via `fail(key, reason)`.
 */
export function object<F extends Fields>(
  fields: F,
  check?: (value: ObjectOf<F>, fail: (key: string, reason: string) => never) => void,
  wording: MapWording = COLLECTOR_WORDING,
): ObjectSchema<ObjectOf<F>> {
  return {
    fields,
    expects: 'a map',
    parse(raw, path) {
      if (raw === undefined || raw === null) raw = {};
      if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(path, wording.notAMap(show(raw)));
      const input = raw as Record<string, unknown>;
      for (const key of Object.keys(input)) {
        if (!(key in fields)) throw new ConfigError(join(path, key), wording.unknownKey(Object.keys(fields)));
      }
      const out: Record<string, unknown> = {};
      for (const [key, schema] of Object.entries(fields)) out[key] = schema.parse(input[key], join(path, key));
      const value = out as ObjectOf<F>;
      check?.(value, (key, reason) => { throw new ConfigError(join(path, key), reason); });
      return value;
    },
  };
}

/**
 * A section that switches a feature on by being present: absent → undefined (off); present with no
 * value (`grpc:` in YAML, i.e. null) → all defaults; a map → parsed.
 */
export function section<T>(of: ObjectSchema<T>): Schema<T | undefined> {
  return {
    expects: of.expects,
    parse: (raw, path) => (raw === undefined ? undefined : of.parse(raw === null ? {} : raw, path)),
  };
}
