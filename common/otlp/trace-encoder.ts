// The one OTLP trace encoder (ExportTraceServiceRequest), used by the agent for the spans it builds
// and by the collector for pdata. Single pass on ProtobufWriter: no intermediate object tree.
// The two sides keep their own span shapes; each passes a SpanReader that reads its span's fields
// where they lie (hex or byte ids, HrTime or 64-bit nanoseconds, attribute objects or KeyValue
// lists), so nothing is converted before encoding. Everything else — field numbers, order,
// nesting, defaults — is written once, here. An earlier shared encoder converted the agent's spans
// to pdata first and cost 2–3× more per span (docs/PERFORMANCE.md).
// Field numbers: opentelemetry/proto/trace/v1/trace.proto, common/v1, resource/v1.
import { ProtobufWriter } from './protobuf-writer.js';

/** A 64-bit integer: Long-like bits, a safe number, or a decimal string (pdata's Int64). */
export type OtlpInt64 = { low: number; high: number } | number | string;
/** HrTime [seconds, nanoseconds] since the Unix epoch (OpenTelemetry JS) or Unix nanoseconds. */
export type OtlpTime = readonly [number, number] | OtlpInt64;
/** Trace/span id: lower-case hex (OpenTelemetry JS) or its bytes (pdata). */
export type OtlpId = string | Uint8Array;

export interface OtlpAnyValue {
  stringValue?: string | null; boolValue?: boolean | null; intValue?: OtlpInt64 | null; doubleValue?: number | null;
  arrayValue?: { values: OtlpAnyValue[] } | null; kvlistValue?: { values: OtlpKeyValue[] } | null; bytesValue?: Uint8Array | null;
}
export interface OtlpKeyValue { key: string; value?: OtlpAnyValue | null }
/** A plain attribute value as OpenTelemetry JS holds it. */
export type PlainValue = string | number | boolean | null | undefined | readonly PlainValue[];
/** Attributes as a plain object (OpenTelemetry JS) or an OTLP KeyValue list (pdata). */
export type OtlpAttributes = { readonly [key: string]: PlainValue } | readonly OtlpKeyValue[];

export interface OtlpEventLike { name: string; attributes?: OtlpAttributes; droppedAttributesCount?: number }
export interface OtlpStatus { code?: number; message?: string }

/** How one side's span is read. Kinds and flags are the proto's values. */
export interface SpanReader<S, E = never, L = never> {
  traceId(s: S): OtlpId;
  spanId(s: S): OtlpId;
  parentSpanId(s: S): OtlpId | undefined;
  traceState(s: S): string | undefined;
  flags(s: S): number;
  kind(s: S): number;
  start(s: S): OtlpTime;
  end(s: S): OtlpTime;
  /** undefined: no status field at all (pdata built without one). */
  status(s: S): OtlpStatus | null | undefined;
  events(s: S): readonly E[] | undefined;
  eventTime(e: E): OtlpTime;
  links(s: S): readonly L[] | undefined;
  link(l: L): { traceId: OtlpId; spanId: OtlpId; traceState?: string; flags?: number; attributes?: OtlpAttributes; droppedAttributesCount?: number };
}

/** Span fields read the same on both sides. */
export interface OtlpSpanLike {
  name: string;
  attributes?: OtlpAttributes;
  droppedAttributesCount?: number;
  droppedEventsCount?: number;
  droppedLinksCount?: number;
}

export interface OtlpScopeLike { name?: string; version?: string; attributes?: OtlpAttributes; droppedAttributesCount?: number }
export interface OtlpResourceLike { attributes?: OtlpAttributes; droppedAttributesCount?: number }
/** ResourceSpans as pdata holds it; the agent groups its spans into the same shape (one object per resource, not per span). */
export interface ResourceGroup<S> {
  resource?: OtlpResourceLike | null;
  scopeSpans: readonly { scope?: OtlpScopeLike | null; spans: readonly S[]; schemaUrl?: string }[];
  schemaUrl?: string;
}

function writeInt64Varint(w: ProtobufWriter, field: number, v: OtlpInt64): void {
  if (typeof v === 'number') { w.int64(field, v); return; }
  const [lo, hi] = int64Bits(v);
  w.tag(field, 0);
  w.varint64(lo, hi);
}

function int64Bits(v: OtlpInt64): [number, number] {
  if (typeof v === 'number') {
    if (v >= 0) return [v >>> 0, Math.floor(v / 4294967296) >>> 0];
    const b = BigInt.asUintN(64, BigInt(Math.trunc(v)));
    return [Number(b & 0xffffffffn), Number(b >> 32n)];
  }
  if (typeof v === 'string') {
    const b = BigInt.asUintN(64, BigInt(v));
    return [Number(b & 0xffffffffn), Number(b >> 32n)];
  }
  return [v.low >>> 0, v.high >>> 0];
}

/** fixed64 Unix nanoseconds, exact for HrTime (no 2^53 rounding); zero is left out. */
function writeTime(w: ProtobufWriter, field: number, t: OtlpTime): void {
  if (typeof t === 'object' && Array.isArray(t)) {
    const s = t[0] as number;
    const sh = Math.floor(s / 65536);
    const sl = s - sh * 65536;
    const a = sh * 1e9; // < 2^46
    const aHi = Math.floor(a / 65536);
    const aLo = (a - aHi * 65536) * 65536;
    const low = aLo + sl * 1e9 + (t[1] as number);
    const carry = Math.floor(low / 4294967296);
    const hi = aHi + carry;
    const lo = low - carry * 4294967296;
    if (hi !== 0 || lo !== 0) w.fixed64(field, hi, lo);
    return;
  }
  const [lo, hi] = int64Bits(t as OtlpInt64);
  if (hi !== 0 || lo !== 0) w.fixed64(field, hi, lo);
}

function writeId(w: ProtobufWriter, field: number, id: OtlpId | undefined): void {
  if (id === undefined || id.length === 0) return;
  if (typeof id === 'string') w.hexBytes(field, id);
  else w.bytes(field, id);
}

function writePlain(w: ProtobufWriter, field: number, v: PlainValue): void {
  w.fork(field);
  if (typeof v === 'string') w.string(1, v);
  else if (typeof v === 'number') {
    if (Number.isInteger(v)) w.int64(3, v);
    else w.double(4, v);
  } else if (typeof v === 'boolean') w.bool(2, v);
  else if (Array.isArray(v)) {
    w.fork(5);
    for (const item of v as readonly PlainValue[]) if (item !== null && item !== undefined) writePlain(w, 1, item);
    w.ldelim();
  }
  w.ldelim();
}

function writeAny(w: ProtobufWriter, field: number, v: OtlpAnyValue): void {
  w.fork(field);
  if (v.stringValue != null) w.string(1, v.stringValue);
  if (v.boolValue != null) w.bool(2, v.boolValue);
  if (v.intValue != null) writeInt64Varint(w, 3, v.intValue);
  if (v.doubleValue != null) w.double(4, v.doubleValue);
  if (v.arrayValue != null) {
    w.fork(5);
    for (const x of v.arrayValue.values) writeAny(w, 1, x);
    w.ldelim();
  }
  if (v.kvlistValue != null) {
    w.fork(6);
    writeAttributes(w, 1, v.kvlistValue.values);
    w.ldelim();
  }
  if (v.bytesValue != null) w.bytes(7, v.bytesValue, true);
  w.ldelim();
}

export function writeAttributes(w: ProtobufWriter, field: number, attrs: OtlpAttributes | undefined): void {
  if (!attrs) return;
  if (Array.isArray(attrs)) {
    for (const kv of attrs as readonly OtlpKeyValue[]) {
      w.fork(field);
      if (kv.key) w.string(1, kv.key);
      if (kv.value != null) writeAny(w, 2, kv.value);
      w.ldelim();
    }
    return;
  }
  const o = attrs as { readonly [key: string]: PlainValue };
  for (const key in o) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    w.fork(field);
    w.string(1, key);
    writePlain(w, 2, v);
    w.ldelim();
  }
}

function writeSpan<S extends OtlpSpanLike, E extends OtlpEventLike, L>(w: ProtobufWriter, r: SpanReader<S, E, L>, s: S): void {
  w.fork(2);
  writeId(w, 1, r.traceId(s));
  writeId(w, 2, r.spanId(s));
  const ts = r.traceState(s);
  if (ts) w.string(3, ts);
  writeId(w, 4, r.parentSpanId(s));
  if (s.name) w.string(5, s.name);
  w.uint(6, r.kind(s));
  writeTime(w, 7, r.start(s));
  writeTime(w, 8, r.end(s));
  writeAttributes(w, 9, s.attributes);
  w.uint(10, s.droppedAttributesCount ?? 0);
  const events = r.events(s);
  if (events) {
    for (const e of events) {
      w.fork(11);
      writeTime(w, 1, r.eventTime(e));
      if (e.name) w.string(2, e.name);
      writeAttributes(w, 3, e.attributes);
      w.uint(4, e.droppedAttributesCount ?? 0);
      w.ldelim();
    }
  }
  w.uint(12, s.droppedEventsCount ?? 0);
  const links = r.links(s);
  if (links) {
    for (const x of links) {
      const l = r.link(x);
      w.fork(13);
      writeId(w, 1, l.traceId);
      writeId(w, 2, l.spanId);
      if (l.traceState) w.string(3, l.traceState);
      writeAttributes(w, 4, l.attributes);
      w.uint(5, l.droppedAttributesCount ?? 0);
      if (l.flags) w.fixed32(6, l.flags);
      w.ldelim();
    }
  }
  w.uint(14, s.droppedLinksCount ?? 0);
  const st = r.status(s);
  if (st != null) {
    w.fork(15);
    if (st.message) w.string(2, st.message);
    w.uint(3, st.code ?? 0);
    w.ldelim();
  }
  const flags = r.flags(s);
  if (flags) w.fixed32(16, flags);
  w.ldelim();
}

const shared = new ProtobufWriter(1 << 20);

export interface EncodeOptions {
  /** Encoded Resource bytes kept per Resource object: only for resources that never change (the agent's). */
  resourceCache?: WeakMap<object, Uint8Array>;
}

function resourceBytes(r: OtlpResourceLike, cache: WeakMap<object, Uint8Array>): Uint8Array {
  let b = cache.get(r);
  if (!b) {
    const w = new ProtobufWriter(1024);
    writeAttributes(w, 1, r.attributes);
    w.uint(2, r.droppedAttributesCount ?? 0);
    b = w.finish();
    cache.set(r, b);
  }
  return b;
}

/** ExportTraceServiceRequest bytes for these resource groups. */
export function encodeTraceRequest<S extends OtlpSpanLike, E extends OtlpEventLike, L>(groups: Iterable<ResourceGroup<S>>,
  reader: SpanReader<S, E, L>, opts: EncodeOptions = {}): Buffer {
  const w = shared;
  w.reset();
  for (const g of groups) {
    w.fork(1); // ResourceSpans
    if (g.resource != null) {
      w.fork(1);
      if (opts.resourceCache) w.raw(resourceBytes(g.resource, opts.resourceCache));
      else {
        writeAttributes(w, 1, g.resource.attributes);
        w.uint(2, g.resource.droppedAttributesCount ?? 0);
      }
      w.ldelim();
    }
    for (const ss of g.scopeSpans) {
      w.fork(2); // ScopeSpans
      const sc = ss.scope;
      if (sc != null) {
        w.fork(1);
        if (sc.name) w.string(1, sc.name);
        if (sc.version) w.string(2, sc.version);
        writeAttributes(w, 3, sc.attributes);
        w.uint(4, sc.droppedAttributesCount ?? 0);
        w.ldelim();
      }
      for (const s of ss.spans) writeSpan(w, reader, s);
      if (ss.schemaUrl) w.string(3, ss.schemaUrl);
      w.ldelim();
    }
    if (g.schemaUrl) w.string(3, g.schemaUrl);
    w.ldelim();
  }
  return w.finish();
}
