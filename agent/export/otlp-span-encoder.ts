// OTLP encoding of the agent's spans with common/'s one trace encoder. The SDK's
// ProtobufTraceSerializer (transform to an intermediate object tree, then protobufjs) cost ≈11 µs
// per span in bench/agent — more than everything else in the agent together — so spans are
// written straight to the wire format. This file only says how an OpenTelemetry JS span is read
// (hex ids, HrTime, API kinds) and groups a batch by Resource and scope; it plugs into the SDK's
// export delegates as their serializer. Encoded Resources are cached per Resource object (one per
// traced process; the agent never changes a Resource once made).
import type { Link } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import type { InstrumentationScope } from '@opentelemetry/core';
import { ProtobufTraceSerializer, type IExportTraceServiceResponse, type ISerializer } from '@opentelemetry/otlp-transformer';
import { encodeTraceRequest, type ResourceGroup, type SpanReader } from '../../common/otlp/trace-encoder.js';
import { TxSpan } from '../signals/tx-span.js';

const resourceCache = new WeakMap<object, Uint8Array>();

/** W3C trace flags plus "has is_remote" (bit 8) and is_remote (bit 9), as the SDK writes them. */
const flagsOf = (traceFlags: number, remote: boolean | undefined) => 0x100 | (traceFlags & 0xff) | (remote ? 0x200 : 0);

/** The agent's own spans hold their context fields; spanContext() would make an object per read. */
const ctx = (s: ReadableSpan) => (s instanceof TxSpan ? s : s.spanContext());

/** How an OpenTelemetry JS ReadableSpan is read (API kinds are the proto's minus one). */
export const READABLE_SPAN: SpanReader<ReadableSpan, TimedEvent, Link> = {
  traceId: (s) => ctx(s).traceId,
  spanId: (s) => ctx(s).spanId,
  parentSpanId: (s) => s.parentSpanContext?.spanId,
  traceState: (s) => ctx(s).traceState?.serialize(),
  flags: (s) => flagsOf(ctx(s).traceFlags, s.parentSpanContext?.isRemote),
  kind: (s) => s.kind + 1,
  start: (s) => s.startTime,
  end: (s) => s.endTime,
  status: (s) => s.status,
  events: (s) => (s.events.length ? s.events : undefined),
  eventTime: (e) => e.time,
  links: (s) => (s.links.length ? s.links : undefined),
  link: (l) => ({ traceId: l.context.traceId, spanId: l.context.spanId, traceState: l.context.traceState?.serialize(),
    flags: flagsOf(l.context.traceFlags, l.context.isRemote), attributes: l.attributes, droppedAttributesCount: l.droppedAttributesCount }),
};

interface ScopeGroup { scope: InstrumentationScope; spans: ReadableSpan[]; schemaUrl?: string }

/** ExportTraceServiceRequest bytes for these spans, grouped by Resource and scope object. */
export function encodeSpans(spans: ReadableSpan[]): Uint8Array {
  const byResource = new Map<Resource, Map<InstrumentationScope, ScopeGroup>>();
  for (const s of spans) {
    let scopes = byResource.get(s.resource);
    if (!scopes) byResource.set(s.resource, (scopes = new Map()));
    const scope = s.instrumentationScope;
    let g = scopes.get(scope);
    if (!g) scopes.set(scope, (g = { scope, spans: [], schemaUrl: scope.schemaUrl }));
    g.spans.push(s);
  }
  const groups: ResourceGroup<ReadableSpan>[] = [];
  for (const [resource, scopes] of byResource) groups.push({ resource, scopeSpans: [...scopes.values()], schemaUrl: resource.schemaUrl });
  return encodeTraceRequest(groups, READABLE_SPAN, { resourceCache });
}

/** Drop-in replacement for the SDK's ProtobufTraceSerializer. */
export const FastTraceSerializer: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: encodeSpans,
  deserializeResponse: (data: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(data),
};
