// The fast span encoder must produce the same OTLP as the SDK's ProtobufTraceSerializer: both
// outputs are decoded with the official OTLP schema (the collector's pdata codec) and compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type AttributeValue } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { encodeSpans } from '../../agent/export/otlp-span-encoder.js';
import { TxSpan } from '../../agent/signals/tx-span.js';
import { SpanBuilder, type BuiltSignals } from '../../agent/signals/span-builder.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { RouteRegistry } from '../../agent/signals/route-template.js';
import { ProcessResources } from '../../agent/signals/process-resource.js';
import { newSpanId, newTraceId } from '../../agent/signals/trace-context.js';
import { decodeTraceRequest, otlpTypes } from '../../otel-collector/pdata/index.js';
import { dnsTx, grpcTx, httpTx } from '../signals/helpers/make-transaction.js';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

function decoded(bytes: Uint8Array): unknown {
  const d = decodeTraceRequest(bytes);
  assert.ok(d.ok, d.ok ? '' : d.error);
  return otlpTypes.traceRequest.toObject(d.value as never, { longs: String, bytes: String, defaults: true, arrays: true });
}

function assertSame(spans: ReadableSpan[]): void {
  assert.deepEqual(decoded(encodeSpans(spans)), decoded(ProtobufTraceSerializer.serializeRequest(spans)!));
}

test('agent spans (HTTP, gRPC, DNS, linked, errors) encode exactly as the SDK encodes them', () => {
  const b = new SpanBuilder(fromEpoch(1_763_000_000, 987_654_321), new RouteRegistry(50));
  const res = new ProcessResources();
  const spans = [httpTx({ target: '/a/1?token=x' }), httpTx({ status: 503, role: 'client' }), grpcTx('server', 13), grpcTx('client', 0), dnsTx('NOERROR'), dnsTx(undefined, 'timeout')]
    .map((tx) => {
      const s = (b.build(tx, res.get(tx.process)) as BuiltSignals).span;
      s.spanId = newSpanId();
      s.traceId = newTraceId();
      return s;
    });
  spans[1]!.setParent(spans[0]!.traceId, spans[0]!.spanId);
  assertSame(spans);
});

const attrValue: fc.Arbitrary<AttributeValue> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }),
  fc.array(fc.integer(), { maxLength: 4 }),
);
const attrs: fc.Arbitrary<Attributes> = fc.dictionary(fc.string({ minLength: 1, maxLength: 40 }), attrValue, { maxKeys: 12 });
const hrTime = fc.tuple(fc.integer({ min: 0, max: 4_000_000_000 }), fc.integer({ min: 0, max: 999_999_999 })) as fc.Arbitrary<[number, number]>;

test('property: arbitrary spans, attributes, events, links and resources encode as the SDK does', () => {
  const resources = [resourceFromAttributes({ 'service.name': 'a', 'process.pid': 1 }, { schemaUrl: 'https://opentelemetry.io/schemas/1.45.0' }),
    resourceFromAttributes({ 'service.name': 'b' })];
  fc.assert(fc.property(fc.array(fc.record({
    name: fc.string({ maxLength: 200 }), kind: fc.constantFrom(SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL),
    start: hrTime, end: hrTime, attributes: attrs, resource: fc.constantFrom(0, 1), parent: fc.boolean(), remote: fc.boolean(),
    status: fc.constantFrom(SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR), message: fc.option(fc.string({ maxLength: 50 }), { nil: undefined }),
    events: fc.array(fc.record({ name: fc.string({ maxLength: 30 }), time: hrTime, attributes: attrs }), { maxLength: 3 }),
    links: fc.array(fc.record({ attributes: attrs, remote: fc.boolean() }), { maxLength: 2 }),
  }), { minLength: 1, maxLength: 12 }), (specs) => {
    const spans = specs.map((x) => {
      const s = new TxSpan(x.name, x.kind, x.start, x.end, 1, { ...x.attributes }, resources[x.resource]!);
      s.traceId = newTraceId();
      s.spanId = newSpanId();
      if (x.parent) s.parentSpanContext = { traceId: s.traceId, spanId: newSpanId(), traceFlags: TraceFlags.SAMPLED, isRemote: x.remote };
      if (x.status !== SpanStatusCode.UNSET || x.message) s.status = { code: x.status, ...(x.message ? { message: x.message } : {}) };
      (s as unknown as { events: unknown }).events = x.events.map((e) => ({ name: e.name, time: e.time, attributes: e.attributes, droppedAttributesCount: 0 }));
      (s as unknown as { links: unknown }).links = x.links.map((l) => ({ context: { traceId: newTraceId(), spanId: newSpanId(), traceFlags: 1, isRemote: l.remote }, attributes: l.attributes, droppedAttributesCount: 0 }));
      return s;
    });
    assertSame(spans);
  }), { numRuns: 150 });
});
