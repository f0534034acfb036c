// The hand-written trace encoder against protobufjs: for random requests (fast-check) and for spans
// made by the OpenTelemetry JS SDK, both encodings must decode to the same request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { fastEncodeTraceRequest } from '../../../otel-collector/pdata/fast-trace-encoder.js';
import { decodeTraceRequest, encodeTraceRequestJson, encodeTraceRequestWithLibrary, type Traces, type AnyValue } from '../../../otel-collector/pdata/index.js';
import { sdkClientServerSpans } from '../helpers/collector-harness.js';

const libEncode = (t: Traces) => encodeTraceRequestWithLibrary(t);
const asJson = (bytes: Uint8Array) => {
  const d = decodeTraceRequest(bytes);
  assert.ok(d.ok, !d.ok ? d.error : '');
  return JSON.parse(encodeTraceRequestJson(d.value));
};

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((b) => ({ low: Number(b & 0xffffffffn) | 0, high: Number(b >> 32n) | 0, unsigned: true }));
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 10 }), fc.constant(''));
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const leaf: fc.Arbitrary<AnyValue> = fc.oneof(
  text.map((s) => ({ stringValue: s })),
  fc.boolean().map((b) => ({ boolValue: b })),
  fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((b) => ({ intValue: b.toString() })),
  fc.double({ noNaN: true }).map((d) => ({ doubleValue: d })),
  fc.uint8Array({ maxLength: 5 }).map((b) => ({ bytesValue: b })),
);
const anyValue: fc.Arbitrary<AnyValue> = fc.oneof(
  { weight: 5, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }).map((values) => ({ arrayValue: { values } })) },
  { weight: 1, arbitrary: fc.array(fc.record({ key: text, value: leaf }), { maxLength: 3 }).map((values) => ({ kvlistValue: { values } })) },
);
const attrs = fc.array(fc.record({ key: text, value: anyValue }), { maxLength: 4 });
const span = fc.record({
  traceId: bytes(16), spanId: bytes(8), traceState: text, parentSpanId: fc.oneof(bytes(8), fc.constant(new Uint8Array(0))),
  flags: fc.nat({ max: 0xffffffff }), name: text, kind: fc.integer({ min: 0, max: 5 }),
  startTimeUnixNano: u64, endTimeUnixNano: u64, attributes: attrs, droppedAttributesCount: fc.nat({ max: 300 }),
  events: fc.array(fc.record({ timeUnixNano: u64, name: text, attributes: attrs, droppedAttributesCount: fc.nat({ max: 3 }) }), { maxLength: 2 }),
  droppedEventsCount: fc.nat({ max: 200 }),
  links: fc.array(fc.record({ traceId: bytes(16), spanId: bytes(8), traceState: text, attributes: attrs, droppedAttributesCount: fc.nat({ max: 3 }), flags: fc.nat({ max: 0xffffffff }) }), { maxLength: 2 }),
  droppedLinksCount: fc.nat({ max: 2 }),
  status: fc.option(fc.record({ message: text, code: fc.integer({ min: 0, max: 2 }) }), { nil: undefined }),
});
const traces: fc.Arbitrary<Traces> = fc.record({
  resourceSpans: fc.array(fc.record({
    resource: fc.option(fc.record({ attributes: attrs, droppedAttributesCount: fc.nat({ max: 5 }) }), { nil: undefined }),
    scopeSpans: fc.array(fc.record({
      scope: fc.option(fc.record({ name: text, version: text, attributes: attrs, droppedAttributesCount: fc.nat({ max: 2 }) }), { nil: undefined }),
      spans: fc.array(span, { maxLength: 4 }),
      schemaUrl: text,
    }), { maxLength: 3 }),
    schemaUrl: text,
  }), { maxLength: 3 }),
});

test('random requests: our bytes decode to exactly what protobufjs encoded', () => {
  fc.assert(fc.property(traces, (t) => {
    assert.deepEqual(asJson(fastEncodeTraceRequest(t)), asJson(libEncode(t)));
  }), { numRuns: 300 });
});

test('decoded SDK spans re-encode to the same request', async () => {
  const spans = await sdkClientServerSpans(20, { failEvery: 3 });
  const original = ProtobufTraceSerializer.serializeRequest(spans)!;
  const d = decodeTraceRequest(original);
  assert.ok(d.ok);
  const ours = fastEncodeTraceRequest(d.value);
  assert.deepEqual(asJson(ours), asJson(original));
  // protobufjs re-writes zero-valued fields the SDK put on the wire; canonical proto3 leaves them out.
  assert.ok(ours.length <= libEncode(d.value).length);
});
