// Fast OTLP span encoding. The SDK's ProtobufTraceSerializer (transform to an intermediate
// object tree, then protobufjs) cost ≈11 µs per span in bench/agent — more than everything else
// in the agent together — so spans are written straight to the OTLP protobuf wire format here.
// It is plugged into the SDK's own gRPC and http/protobuf export delegates as their serializer,
// so transport, retries, timeouts and the OTEL_EXPORTER_OTLP_* settings stay the SDK's.
// Encoded Resources are cached per Resource object (one per traced process).
// Field numbers: opentelemetry/proto/trace/v1/trace.proto, common/v1, resource/v1.
import type { AttributeValue, Attributes, HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { InstrumentationScope } from '@opentelemetry/core';
import { ProtobufTraceSerializer, type IExportTraceServiceResponse, type ISerializer } from '@opentelemetry/otlp-transformer';
import { ProtobufWriter } from '../../common/otlp/protobuf-writer.js';

const resourceCache = new WeakMap<Resource, Uint8Array>();

function writeAnyValue(w: ProtobufWriter, field: number, v: AttributeValue): void {
  w.fork(field);
  if (typeof v === 'string') w.string(1, v);
  else if (typeof v === 'number') {
    if (Number.isInteger(v)) w.int64(3, v);
    else w.double(4, v);
  } else if (typeof v === 'boolean') w.bool(2, v);
  else if (Array.isArray(v)) {
    w.fork(5);
    for (const item of v) if (item !== null && item !== undefined) writeAnyValue(w, 1, item as AttributeValue);
    w.ldelim();
  }
  w.ldelim();
}

function writeAttributes(w: ProtobufWriter, field: number, attrs: Attributes): void {
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined || v === null) continue;
    w.fork(field);
    w.string(1, key);
    writeAnyValue(w, 2, v);
    w.ldelim();
  }
}

/** Writes HrTime as fixed64 Unix nanoseconds, exactly (no 2^53 rounding). */
function writeTime(w: ProtobufWriter, field: number, t: HrTime): void {
  const s = t[0];
  const sh = Math.floor(s / 65536);
  const sl = s - sh * 65536;
  const a = sh * 1e9; // < 2^46
  const aHi = Math.floor(a / 65536);
  const aLo = (a - aHi * 65536) * 65536;
  const low = aLo + sl * 1e9 + t[1];
  const carry = Math.floor(low / 4294967296);
  w.fixed64(field, aHi + carry, low - carry * 4294967296);
}

function resourceBytes(r: Resource): Uint8Array {
  let b = resourceCache.get(r);
  if (!b) {
    const w = new ProtobufWriter(1024);
    writeAttributes(w, 1, r.attributes);
    b = w.finish();
    resourceCache.set(r, b);
  }
  return b;
}

function writeSpan(w: ProtobufWriter, s: ReadableSpan): void {
  const ctx = s.spanContext();
  w.fork(2);
  w.hexBytes(1, ctx.traceId);
  w.hexBytes(2, ctx.spanId);
  if (ctx.traceState) w.string(3, ctx.traceState.serialize());
  if (s.parentSpanContext?.spanId) w.hexBytes(4, s.parentSpanContext.spanId);
  w.string(5, s.name);
  w.uint(6, s.kind + 1); // API kinds are proto kinds - 1
  writeTime(w, 7, s.startTime);
  writeTime(w, 8, s.endTime);
  writeAttributes(w, 9, s.attributes);
  w.uint(10, s.droppedAttributesCount);
  for (const e of s.events) {
    w.fork(11);
    writeTime(w, 1, e.time);
    w.string(2, e.name);
    if (e.attributes) writeAttributes(w, 3, e.attributes);
    w.uint(4, e.droppedAttributesCount ?? 0);
    w.ldelim();
  }
  w.uint(12, s.droppedEventsCount);
  for (const l of s.links) {
    w.fork(13);
    w.hexBytes(1, l.context.traceId);
    w.hexBytes(2, l.context.spanId);
    if (l.context.traceState) w.string(3, l.context.traceState.serialize());
    if (l.attributes) writeAttributes(w, 4, l.attributes);
    w.uint(5, l.droppedAttributesCount ?? 0);
    w.fixed32(6, 0x100 | (l.context.traceFlags & 0xff) | (l.context.isRemote ? 0x200 : 0));
    w.ldelim();
  }
  w.uint(14, s.droppedLinksCount);
  w.fork(15); // always present, as the SDK writes it
  if (s.status.message) w.string(2, s.status.message);
  w.uint(3, s.status.code);
  w.ldelim();
  // flags: W3C trace flags plus "has is_remote" (bit 8) and the parent's is_remote (bit 9).
  const parentRemote = s.parentSpanContext?.isRemote ? 0x200 : 0;
  w.fixed32(16, 0x100 | (ctx.traceFlags & 0xff) | parentRemote);
  w.ldelim();
}

const writer = new ProtobufWriter(1 << 20);

/** ExportTraceServiceRequest bytes for these spans, grouped by Resource and scope object. */
export function encodeSpans(spans: ReadableSpan[]): Uint8Array {
  const byResource = new Map<Resource, Map<InstrumentationScope, ReadableSpan[]>>();
  for (const s of spans) {
    let scopes = byResource.get(s.resource);
    if (!scopes) byResource.set(s.resource, (scopes = new Map()));
    let list = scopes.get(s.instrumentationScope);
    if (!list) scopes.set(s.instrumentationScope, (list = []));
    list.push(s);
  }
  const w = writer;
  w.reset();
  for (const [resource, scopes] of byResource) {
    w.fork(1); // ResourceSpans
    w.fork(1); // Resource
    w.raw(resourceBytes(resource));
    w.ldelim();
    for (const [scope, list] of scopes) {
      w.fork(2); // ScopeSpans
      w.fork(1);
      w.string(1, scope.name);
      if (scope.version) w.string(2, scope.version);
      w.ldelim();
      for (const s of list) writeSpan(w, s);
      if (scope.schemaUrl) w.string(3, scope.schemaUrl);
      w.ldelim();
    }
    if (resource.schemaUrl) w.string(3, resource.schemaUrl);
    w.ldelim();
  }
  return w.finish();
}

/** Drop-in replacement for the SDK's ProtobufTraceSerializer. */
export const FastTraceSerializer: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: encodeSpans,
  deserializeResponse: (data: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(data),
};
