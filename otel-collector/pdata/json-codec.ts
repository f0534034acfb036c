// OTLP/JSON mapping (OTLP/HTTP with Content-Type application/json): protobuf's JSON mapping with
// OTLP's deviations — trace/span ids are hex strings (not base64), enums are integers, 64-bit ints
// are decimal strings. Walks the schema by reflection so every message type is covered.
// Decoding accepts lowerCamelCase and the original snake_case keys, enum names or numbers, and
// 64-bit ints as strings or numbers; unknown fields are ignored, as the spec requires.
import protobuf from 'protobufjs';
import { otlpTypes } from './otlp-schema.js';
import { bytesToHex, hexToBytes, int64ToString } from './int64.js';
import type { DecodeResult } from './codec.js';
import type { Traces, Metrics, Logs, ExportPartialSuccess } from './types.js';

const ID_LENGTHS: Record<string, number> = { traceId: 16, spanId: 8, parentSpanId: 8 };
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function fieldOf(type: protobuf.Type, key: string): protobuf.Field | undefined {
  return type.fields[key] ?? type.fields[camel(key)];
}

// JSON → an object protobufjs' fromObject accepts (camelCase keys, ids as bytes).
function normalize(type: protobuf.Type, obj: unknown, path: string): Record<string, unknown> {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new Error(`${path}: expected a JSON object for ${type.name}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(obj as Record<string, unknown>)) {
    const field = fieldOf(type, key);
    if (!field || raw === null || raw === undefined) continue;
    const fpath = `${path}.${field.name}`;
    const sub = field.resolvedType;
    if (sub instanceof protobuf.Type) {
      if (field.repeated) {
        if (!Array.isArray(raw)) throw new Error(`${fpath}: expected an array`);
        out[field.name] = raw.map((v, i) => normalize(sub, v, `${fpath}[${i}]`));
      } else {
        out[field.name] = normalize(sub, raw, fpath);
      }
    } else if (field.type === 'bytes' && field.name in ID_LENGTHS) {
      if (typeof raw !== 'string') throw new Error(`${fpath}: expected a hex string`);
      try {
        out[field.name] = hexToBytes(raw, ID_LENGTHS[field.name]);
      } catch (e) {
        throw new Error(`${fpath}: ${(e as Error).message}`);
      }
    } else {
      out[field.name] = raw;
    }
  }
  return out;
}

function decodeJson<T>(type: protobuf.Type, text: string | Uint8Array): DecodeResult<T> {
  try {
    const parsed: unknown = JSON.parse(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'));
    const ready = normalize(type, parsed, type.name);
    // fromObject checks types (throws TypeError naming the field) and builds real message instances.
    return { ok: true, value: type.fromObject(ready) as unknown as T };
  } catch (e) {
    return { ok: false, error: `invalid OTLP/JSON ${type.name}: ${(e as Error).message}` };
  }
}

function toJson(type: protobuf.Type, msg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const v = msg[field.name];
    if (v === null || v === undefined) continue;
    const sub = field.resolvedType;
    const one = (x: unknown): unknown => {
      if (sub instanceof protobuf.Type) return toJson(sub, x as Record<string, unknown>);
      if (field.type === 'bytes') {
        const b = x as Uint8Array;
        return field.name in ID_LENGTHS ? bytesToHex(b) : Buffer.from(b).toString('base64');
      }
      if (LONG_TYPES.has(field.type)) return int64ToString(x as never);
      return x;
    };
    if (field.repeated) {
      const arr = v as unknown[];
      if (arr.length) out[field.name] = arr.map(one);
    } else if (field.type === 'bytes' && (v as Uint8Array).length === 0) {
      continue;
    } else if (field.partOf || Object.prototype.hasOwnProperty.call(msg, field.name)) {
      // Oneof members and explicitly set fields are kept even at their default value.
      if (field.partOf && !Object.prototype.hasOwnProperty.call(msg, field.name)) continue;
      out[field.name] = one(v);
    }
  }
  return out;
}

export const decodeTraceRequestJson = (t: string | Uint8Array) => decodeJson<Traces>(otlpTypes.traceRequest, t);
export const decodeMetricsRequestJson = (t: string | Uint8Array) => decodeJson<Metrics>(otlpTypes.metricsRequest, t);
export const decodeLogsRequestJson = (t: string | Uint8Array) => decodeJson<Logs>(otlpTypes.logsRequest, t);

export const encodeTraceRequestJson = (t: Traces) => JSON.stringify(toJson(otlpTypes.traceRequest, t as never));
export const encodeMetricsRequestJson = (m: Metrics) => JSON.stringify(toJson(otlpTypes.metricsRequest, m as never));
export const encodeLogsRequestJson = (l: Logs) => JSON.stringify(toJson(otlpTypes.logsRequest, l as never));

const rejectedKeys = { traces: 'rejectedSpans', metrics: 'rejectedDataPoints', logs: 'rejectedLogRecords' } as const;

/** The JSON body of an export response: {} on full success, else {"partialSuccess": {...}}. */
export function encodeExportResponseJson(signal: 'traces' | 'metrics' | 'logs', p?: ExportPartialSuccess): string {
  if (!p || (p.rejected === 0 && p.errorMessage === '')) return '{}';
  return JSON.stringify({ partialSuccess: { [rejectedKeys[signal]]: String(p.rejected), errorMessage: p.errorMessage } });
}

/** Parses an export response body written as JSON. */
export function decodeExportResponseJson(signal: 'traces' | 'metrics' | 'logs', text: string): DecodeResult<ExportPartialSuccess | undefined> {
  try {
    const o = JSON.parse(text || '{}') as { partialSuccess?: Record<string, unknown>; partial_success?: Record<string, unknown> };
    const ps = o.partialSuccess ?? o.partial_success;
    if (!ps) return { ok: true, value: undefined };
    const rej = ps[rejectedKeys[signal]] ?? ps[rejectedKeys[signal].replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
    const msg = ps.errorMessage ?? ps.error_message;
    return { ok: true, value: { rejected: Number(rej ?? 0), errorMessage: String(msg ?? '') } };
  } catch (e) {
    return { ok: false, error: `malformed JSON export response: ${(e as Error).message}` };
  }
}

/** google.rpc.Status as JSON (OTLP/HTTP error body when the request was JSON). */
export function encodeRpcStatusJson(code: number, message: string): string {
  return JSON.stringify({ code, message });
}
