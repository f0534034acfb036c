// A hand-written protobuf encoder for ExportTraceServiceRequest, the collector's hottest encode.
// Why not protobufjs here: its Writer allocates an operation object per field and a state object
// per nested message, and the collector benchmark showed encode plus the garbage it leaves as the
// largest cost of the export path. This encoder measures every nested message once (sizes cached
// in visit order), allocates the output once, and writes straight into it.
// It emits canonical proto3 (default scalars omitted; `optional` AnyValue members written when set)
// and is checked field for field against protobufjs in test/collector/pdata/fast-trace-encoder.test.ts.
import type { Traces, ResourceSpans, ScopeSpans, Span, SpanEvent, SpanLink, KeyValue, AnyValue, InstrumentationScope, Resource, Int64 } from './types.js';

const TWO32 = 4294967296;

function varintLen(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

// UTF-8 length without a native call for the common all-ASCII case.
function utf8Len(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

function int64Bits(v: Int64): [number, number] {
  if (typeof v === 'number') {
    if (v >= 0) return [v >>> 0, Math.floor(v / TWO32) >>> 0];
    const b = BigInt.asUintN(64, BigInt(Math.trunc(v)));
    return [Number(b & 0xffffffffn), Number(b >> 32n)];
  }
  if (typeof v === 'string') {
    const b = BigInt.asUintN(64, BigInt(v));
    return [Number(b & 0xffffffffn), Number(b >> 32n)];
  }
  return [v.low >>> 0, v.high >>> 0];
}
const isZero64 = (v: Int64 | null | undefined) =>
  v == null || v === 0 || v === '0' || (typeof v === 'object' && v.low === 0 && v.high === 0);

function varint64Len(lo: number, hi: number): number {
  if (hi === 0) return varintLen(lo);
  // bits above 32: ceil(bitlength / 7)
  const bits = 32 + (32 - Math.clz32(hi));
  return Math.ceil(bits / 7);
}

class Sizes { readonly s: number[] = []; i = 0 }

class Out {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(v: number): void {
    const b = this.buf;
    while (v > 0x7f) { b[this.pos++] = (v & 0x7f) | 0x80; v >>>= 7; }
    b[this.pos++] = v;
  }
  varint64(lo: number, hi: number): void {
    const b = this.buf;
    while (hi !== 0 || lo > 0x7f) {
      b[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[this.pos++] = lo;
  }
  fixed32(v: number): void { this.buf.writeUInt32LE(v >>> 0, this.pos); this.pos += 4; }
  fixed64(v: Int64): void {
    const [lo, hi] = int64Bits(v);
    this.buf.writeUInt32LE(lo, this.pos); this.buf.writeUInt32LE(hi, this.pos + 4); this.pos += 8;
  }
  double(v: number): void { this.buf.writeDoubleLE(v, this.pos); this.pos += 8; }
  str(s: string, len: number): void {
    this.varint(len);
    if (len === s.length) {
      const b = this.buf;
      for (let i = 0; i < len; i++) b[this.pos + i] = s.charCodeAt(i);
    } else {
      this.buf.write(s, this.pos, len, 'utf8');
    }
    this.pos += len;
  }
  bytes(v: Uint8Array): void { this.varint(v.length); this.buf.set(v, this.pos); this.pos += v.length; }
}

// Field helpers: size of a tag + payload. Tags here are all < 128 except Span.flags (16 → 2 bytes).
const tagLen = (field: number) => (field < 16 ? 1 : 2);
const strField = (field: number, s: string | undefined | null) => {
  if (!s) return 0;
  const l = utf8Len(s);
  return tagLen(field) + varintLen(l) + l;
};
const bytesField = (field: number, b: Uint8Array | undefined | null) => (b && b.length ? tagLen(field) + varintLen(b.length) + b.length : 0);
const msgField = (field: number, len: number) => tagLen(field) + varintLen(len) + len;

// ---- size pass (records nested message sizes in visit order) ----

function sizeAny(v: AnyValue, c: Sizes): number {
  const at = c.s.length; c.s.push(0);
  let n = 0;
  if (v.stringValue != null) { const l = utf8Len(v.stringValue); n += 1 + varintLen(l) + l; }
  if (v.boolValue != null) n += 2;
  if (v.intValue != null) { const [lo, hi] = int64Bits(v.intValue); n += 1 + varint64Len(lo, hi); }
  if (v.doubleValue != null) n += 9;
  if (v.arrayValue != null) n += msgField(5, sizeValues(v.arrayValue.values, c));
  if (v.kvlistValue != null) n += msgField(6, sizeKvList(v.kvlistValue.values, c));
  if (v.bytesValue != null) n += 1 + varintLen(v.bytesValue.length) + v.bytesValue.length;
  c.s[at] = n;
  return n;
}
function sizeValues(vals: AnyValue[], c: Sizes): number {
  const at = c.s.length; c.s.push(0);
  let n = 0;
  for (const v of vals) n += msgField(1, sizeAny(v, c));
  c.s[at] = n;
  return n;
}
function sizeKvList(kvs: KeyValue[], c: Sizes): number {
  const at = c.s.length; c.s.push(0);
  let n = 0;
  for (const kv of kvs) n += msgField(1, sizeKv(kv, c));
  c.s[at] = n;
  return n;
}
function sizeKv(kv: KeyValue, c: Sizes): number {
  const at = c.s.length; c.s.push(0);
  let n = strField(1, kv.key);
  if (kv.value != null) n += msgField(2, sizeAny(kv.value, c));
  c.s[at] = n;
  return n;
}
function sizeAttrs(field: number, kvs: KeyValue[] | undefined, c: Sizes): number {
  let n = 0;
  if (kvs) for (const kv of kvs) n += msgField(field, sizeKv(kv, c));
  return n;
}
function sizeResource(r: Resource, c: Sizes): number {
  const at = c.s.length; c.s.push(0);
  let n = sizeAttrs(1, r.attributes, c);
  if (r.droppedAttributesCount) n += 1 + varintLen(r.droppedAttributesCount);
  c.s[at] = n;
  return n;
}
function sizeScope(sc: InstrumentationScope, c: Sizes): number {
  const at = c.s.length; c.s.push(0);
  let n = strField(1, sc.name) + strField(2, sc.version) + sizeAttrs(3, sc.attributes, c);
  if (sc.droppedAttributesCount) n += 1 + varintLen(sc.droppedAttributesCount);
  c.s[at] = n;
  return n;
}
function sizeEvent(e: SpanEvent, c: Sizes): number {
  const at = c.s.length; c.s.push(0);
  let n = (isZero64(e.timeUnixNano) ? 0 : 9) + strField(2, e.name) + sizeAttrs(3, e.attributes, c);
  if (e.droppedAttributesCount) n += 1 + varintLen(e.droppedAttributesCount);
  c.s[at] = n;
  return n;
}
function sizeLink(l: SpanLink, c: Sizes): number {
  const at = c.s.length; c.s.push(0);
  let n = bytesField(1, l.traceId) + bytesField(2, l.spanId) + strField(3, l.traceState) + sizeAttrs(4, l.attributes, c);
  if (l.droppedAttributesCount) n += 1 + varintLen(l.droppedAttributesCount);
  if (l.flags) n += 5;
  c.s[at] = n;
  return n;
}
function sizeSpan(s: Span, c: Sizes): number {
  const at = c.s.length; c.s.push(0);
  let n = bytesField(1, s.traceId) + bytesField(2, s.spanId) + strField(3, s.traceState) + bytesField(4, s.parentSpanId);
  if (s.flags) n += 2 + 4;
  n += strField(5, s.name);
  if (s.kind) n += 1 + varintLen(s.kind);
  if (!isZero64(s.startTimeUnixNano)) n += 9;
  if (!isZero64(s.endTimeUnixNano)) n += 9;
  n += sizeAttrs(9, s.attributes, c);
  if (s.droppedAttributesCount) n += 1 + varintLen(s.droppedAttributesCount);
  if (s.events) for (const e of s.events) n += msgField(11, sizeEvent(e, c));
  if (s.droppedEventsCount) n += 1 + varintLen(s.droppedEventsCount);
  if (s.links) for (const l of s.links) n += msgField(13, sizeLink(l, c));
  if (s.droppedLinksCount) n += 1 + varintLen(s.droppedLinksCount);
  if (s.status != null) {
    const st = s.status;
    const sl = strField(2, st.message) + (st.code ? 1 + varintLen(st.code) : 0);
    n += msgField(15, sl);
  }
  c.s[at] = n;
  return n;
}
function sizeScopeSpans(ss: ScopeSpans, c: Sizes): number {
  const at = c.s.length; c.s.push(0);
  let n = ss.scope != null ? msgField(1, sizeScope(ss.scope, c)) : 0;
  for (const sp of ss.spans) n += msgField(2, sizeSpan(sp, c));
  n += strField(3, ss.schemaUrl);
  c.s[at] = n;
  return n;
}
function sizeResourceSpans(rs: ResourceSpans, c: Sizes): number {
  const at = c.s.length; c.s.push(0);
  let n = rs.resource != null ? msgField(1, sizeResource(rs.resource, c)) : 0;
  for (const ss of rs.scopeSpans) n += msgField(2, sizeScopeSpans(ss, c));
  n += strField(3, rs.schemaUrl);
  c.s[at] = n;
  return n;
}

// ---- write pass (same visit order, reads the recorded sizes) ----

function wStr(o: Out, tag: number, s: string | undefined | null): void {
  if (!s) return;
  o.varint(tag);
  o.str(s, utf8Len(s));
}
function wBytes(o: Out, tag: number, b: Uint8Array | undefined | null): void {
  if (b && b.length) { o.varint(tag); o.bytes(b); }
}
function wMsgHead(o: Out, tag: number, c: Sizes): void {
  o.varint(tag);
  o.varint(c.s[c.i++]!);
}
function wAny(o: Out, v: AnyValue, c: Sizes): void {
  if (v.stringValue != null) { o.varint(0x0a); o.str(v.stringValue, utf8Len(v.stringValue)); }
  if (v.boolValue != null) { o.varint(0x10); o.varint(v.boolValue ? 1 : 0); }
  if (v.intValue != null) { o.varint(0x18); const [lo, hi] = int64Bits(v.intValue); o.varint64(lo, hi); }
  if (v.doubleValue != null) { o.varint(0x21); o.double(v.doubleValue); }
  if (v.arrayValue != null) { wMsgHead(o, 0x2a, c); for (const x of v.arrayValue.values) { wMsgHead(o, 0x0a, c); wAny(o, x, c); } }
  if (v.kvlistValue != null) { wMsgHead(o, 0x32, c); for (const kv of v.kvlistValue.values) { wMsgHead(o, 0x0a, c); wKv(o, kv, c); } }
  if (v.bytesValue != null) { o.varint(0x3a); o.bytes(v.bytesValue); }
}
function wKv(o: Out, kv: KeyValue, c: Sizes): void {
  wStr(o, 0x0a, kv.key);
  if (kv.value != null) { wMsgHead(o, 0x12, c); wAny(o, kv.value, c); }
}
function wAttrs(o: Out, tag: number, kvs: KeyValue[] | undefined, c: Sizes): void {
  if (kvs) for (const kv of kvs) { wMsgHead(o, tag, c); wKv(o, kv, c); }
}
function wSpan(o: Out, s: Span, c: Sizes): void {
  wBytes(o, 0x0a, s.traceId);
  wBytes(o, 0x12, s.spanId);
  wStr(o, 0x1a, s.traceState);
  wBytes(o, 0x22, s.parentSpanId);
  if (s.flags) { o.varint((16 << 3) | 5); o.fixed32(s.flags); } // field 16, fixed32: a 2-byte tag
  wStr(o, 0x2a, s.name);
  if (s.kind) { o.varint(0x30); o.varint(s.kind); }
  if (!isZero64(s.startTimeUnixNano)) { o.varint(0x39); o.fixed64(s.startTimeUnixNano); }
  if (!isZero64(s.endTimeUnixNano)) { o.varint(0x41); o.fixed64(s.endTimeUnixNano); }
  wAttrs(o, 0x4a, s.attributes, c);
  if (s.droppedAttributesCount) { o.varint(0x50); o.varint(s.droppedAttributesCount); }
  if (s.events) {
    for (const e of s.events) {
      wMsgHead(o, 0x5a, c);
      if (!isZero64(e.timeUnixNano)) { o.varint(0x09); o.fixed64(e.timeUnixNano); }
      wStr(o, 0x12, e.name);
      wAttrs(o, 0x1a, e.attributes, c);
      if (e.droppedAttributesCount) { o.varint(0x20); o.varint(e.droppedAttributesCount); }
    }
  }
  if (s.droppedEventsCount) { o.varint(0x60); o.varint(s.droppedEventsCount); }
  if (s.links) {
    for (const l of s.links) {
      wMsgHead(o, 0x6a, c);
      wBytes(o, 0x0a, l.traceId);
      wBytes(o, 0x12, l.spanId);
      wStr(o, 0x1a, l.traceState);
      wAttrs(o, 0x22, l.attributes, c);
      if (l.droppedAttributesCount) { o.varint(0x28); o.varint(l.droppedAttributesCount); }
      if (l.flags) { o.varint(0x35); o.fixed32(l.flags); }
    }
  }
  if (s.droppedLinksCount) { o.varint(0x70); o.varint(s.droppedLinksCount); }
  if (s.status != null) {
    const st = s.status;
    const ml = st.message ? utf8Len(st.message) : 0;
    o.varint(0x7a);
    o.varint((ml ? 1 + varintLen(ml) + ml : 0) + (st.code ? 1 + varintLen(st.code) : 0));
    if (ml) { o.varint(0x12); o.str(st.message!, ml); }
    if (st.code) { o.varint(0x18); o.varint(st.code); }
  }
}

/** ExportTraceServiceRequest bytes for `t` (wire-compatible with protobufjs' encoding of it). */
export function fastEncodeTraceRequest(t: Traces): Buffer {
  const c = new Sizes();
  let total = 0;
  for (const rs of t.resourceSpans) total += msgField(1, sizeResourceSpans(rs, c));
  const o = new Out(Buffer.allocUnsafe(total));
  for (const rs of t.resourceSpans) {
    wMsgHead(o, 0x0a, c);
    if (rs.resource != null) {
      wMsgHead(o, 0x0a, c);
      wAttrs(o, 0x0a, rs.resource.attributes, c);
      if (rs.resource.droppedAttributesCount) { o.varint(0x10); o.varint(rs.resource.droppedAttributesCount); }
    }
    for (const ss of rs.scopeSpans) {
      wMsgHead(o, 0x12, c);
      if (ss.scope != null) {
        wMsgHead(o, 0x0a, c);
        wStr(o, 0x0a, ss.scope.name);
        wStr(o, 0x12, ss.scope.version);
        wAttrs(o, 0x1a, ss.scope.attributes, c);
        if (ss.scope.droppedAttributesCount) { o.varint(0x20); o.varint(ss.scope.droppedAttributesCount); }
      }
      for (const sp of ss.spans) { wMsgHead(o, 0x12, c); wSpan(o, sp, c); }
      wStr(o, 0x1a, ss.schemaUrl);
    }
    wStr(o, 0x1a, rs.schemaUrl);
  }
  if (o.pos !== total) throw new Error(`internal: trace encoder wrote ${o.pos} bytes, sized ${total}`);
  return o.buf;
}
