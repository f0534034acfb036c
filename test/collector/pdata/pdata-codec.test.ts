// The OTLP codec against an independent implementation: spans made by the OpenTelemetry JS SDK and
// serialized by its own OTLP serializers (protobuf and JSON) must decode with every field intact,
// and our encoding must decode back to the same thing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SpanKind as ApiSpanKind, SpanStatusCode } from '@opentelemetry/api';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  decodeTraceRequest, encodeTraceRequest, decodeTraceRequestJson, encodeTraceRequestJson,
  decodeMetricsRequest, encodeMetricsRequest, decodeMetricsRequestJson, encodeMetricsRequestJson,
  encodeTraceResponse, decodeExportResponse, encodeRpcStatus, decodeRpcStatus,
  bytesToHex, int64ToBigInt, nanosBetween, int64FromBigInt, SpanKind, StatusCode, countSpans, countDataPoints,
} from '../../../otel-collector/pdata/index.js';
import type { Traces, Metrics, Span } from '../../../otel-collector/pdata/index.js';

async function sdkSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'k8s.pod.uid': 'u-1' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('codec-test', '1.2.3');
  const parent = tracer.startSpan('GET /cart', { kind: ApiSpanKind.SERVER, attributes: { 'http.response.status_code': 503, 'url.path': '/cart', big: 2 ** 40, ratio: 0.5, ok: true, tags: ['a', 'b'] } });
  parent.addEvent('retry', { attempt: 2 });
  parent.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  parent.end();
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

function onlySpan(t: Traces): Span {
  assert.equal(countSpans(t), 1);
  return t.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
}

function attr(span: Span, key: string) {
  return span.attributes.find((a) => a.key === key)?.value;
}

test('decodes the SDK protobuf serializer output with ids, kind, times, attributes, events, status', async () => {
  const spans = await sdkSpans();
  const sdk = spans[0]!;
  const bytes = ProtobufTraceSerializer.serializeRequest(spans)!;
  const r = decodeTraceRequest(bytes);
  assert.ok(r.ok, !r.ok ? r.error : '');
  const span = onlySpan(r.value);
  assert.equal(bytesToHex(span.traceId), sdk.spanContext().traceId);
  assert.equal(bytesToHex(span.spanId), sdk.spanContext().spanId);
  assert.equal(span.name, 'GET /cart');
  assert.equal(span.kind, SpanKind.SERVER);
  assert.equal(span.status?.code, StatusCode.ERROR);
  assert.equal(span.status?.message, 'boom');
  const startNs = BigInt(sdk.startTime[0]) * 1_000_000_000n + BigInt(sdk.startTime[1]);
  assert.equal(int64ToBigInt(span.startTimeUnixNano), startNs);
  const durNs = sdk.duration[0] * 1e9 + sdk.duration[1];
  assert.equal(nanosBetween(span.startTimeUnixNano, span.endTimeUnixNano), durNs);
  assert.equal(Number(int64ToBigInt(attr(span, 'http.response.status_code')!.intValue)), 503);
  assert.equal(int64ToBigInt(attr(span, 'big')!.intValue), 2n ** 40n);
  assert.equal(attr(span, 'ratio')!.doubleValue, 0.5);
  assert.equal(attr(span, 'ok')!.boolValue, true);
  assert.deepEqual(attr(span, 'tags')!.arrayValue!.values.map((v) => v.stringValue), ['a', 'b']);
  assert.equal(span.events![0]!.name, 'retry');
  const rs = r.value.resourceSpans[0]!;
  assert.equal(rs.resource!.attributes.find((a) => a.key === 'service.name')!.value!.stringValue, 'checkout');
  assert.equal(rs.scopeSpans[0]!.scope!.name, 'codec-test');
  assert.equal(rs.scopeSpans[0]!.scope!.version, '1.2.3');

  // Our encoder round-trips it byte-for-byte in meaning.
  const again = decodeTraceRequest(encodeTraceRequest(r.value));
  assert.ok(again.ok);
  assert.deepEqual(JSON.parse(encodeTraceRequestJson(again.value)), JSON.parse(encodeTraceRequestJson(r.value)));
});

test('decodes the SDK JSON serializer output (hex ids, string int64) to the same spans as protobuf', async () => {
  const spans = await sdkSpans();
  const fromProto = decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(spans)!);
  const fromJson = decodeTraceRequestJson(JsonTraceSerializer.serializeRequest(spans)!);
  assert.ok(fromProto.ok && fromJson.ok, !fromJson.ok ? fromJson.error : '');
  assert.deepEqual(JSON.parse(encodeTraceRequestJson(fromJson.value)), JSON.parse(encodeTraceRequestJson(fromProto.value)));
  const json = JSON.parse(encodeTraceRequestJson(fromProto.value));
  const s = json.resourceSpans[0].scopeSpans[0].spans[0];
  assert.match(s.traceId, /^[0-9a-f]{32}$/);
  assert.match(s.spanId, /^[0-9a-f]{16}$/);
  assert.equal(typeof s.startTimeUnixNano, 'string');
  assert.equal(s.kind, 2);
});

test('JSON accepts snake_case keys and enum names, and names the bad field on error', () => {
  const ok = decodeTraceRequestJson(JSON.stringify({
    resource_spans: [{ scope_spans: [{ spans: [{
      trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', name: 'x',
      kind: 'SPAN_KIND_CLIENT', start_time_unix_nano: '1700000000000000001', end_time_unix_nano: 1700000000000001000,
    }] }] }],
  }));
  assert.ok(ok.ok, !ok.ok ? ok.error : '');
  const span = onlySpan(ok.value);
  assert.equal(span.kind, SpanKind.CLIENT);
  assert.equal(int64ToBigInt(span.startTimeUnixNano), 1700000000000000001n);

  const badId = decodeTraceRequestJson('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc"}]}]}]}');
  assert.ok(!badId.ok);
  assert.match(badId.error, /traceId: not a hex string|traceId: expected 32 hex digits/);
  const shortId = decodeTraceRequestJson('{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"abcd"}]}]}]}');
  assert.ok(!shortId.ok);
  assert.match(shortId.error, /spanId: expected 16 hex digits, got 4/);
  const notJson = decodeTraceRequestJson('{"resourceSpans": [');
  assert.ok(!notJson.ok);
  assert.match(notJson.error, /invalid OTLP\/JSON/);
});

test('an attribute value reads as exactly one member; the others are null', async () => {
  const r = decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(await sdkSpans())!);
  assert.ok(r.ok);
  const span = onlySpan(r.value);
  const members = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] as const;
  const set = (key: string) => members.filter((m) => attr(span, key)![m] != null);
  assert.deepEqual(set('ok'), ['boolValue']);
  assert.deepEqual(set('url.path'), ['stringValue']);
  assert.deepEqual(set('http.response.status_code'), ['intValue']);
  assert.deepEqual(set('ratio'), ['doubleValue']);
  assert.deepEqual(set('tags'), ['arrayValue']);
});

test('malformed protobuf is an error, not an exception', () => {
  const r = decodeTraceRequest(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2]));
  assert.ok(!r.ok);
  assert.match(r.error, /malformed ExportTraceServiceRequest/);
});

test('no input makes a decoder throw: random and truncated bytes, random JSON', async () => {
  const valid = Buffer.from(ProtobufTraceSerializer.serializeRequest(await sdkSpans())!);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (junk, cut) => {
    for (const bytes of [junk, valid.subarray(0, cut % valid.length), Buffer.concat([valid.subarray(0, cut % valid.length), junk])]) {
      for (const r of [decodeTraceRequest(bytes), decodeMetricsRequest(bytes), decodeExportResponse('traces', bytes), decodeRpcStatus(bytes)]) {
        assert.ok(r.ok === true || (r.ok === false && typeof r.error === 'string'));
      }
    }
  }), { numRuns: 500 });
  fc.assert(fc.property(fc.json(), (text) => {
    for (const r of [decodeTraceRequestJson(text), decodeMetricsRequestJson(text)]) {
      assert.ok(r.ok === true || (r.ok === false && typeof r.error === 'string'));
    }
  }), { numRuns: 300 });
});

test('metrics: sum and histogram round-trip through protobuf and JSON', () => {
  const now = int64FromBigInt(1_700_000_000_123_456_789n);
  const m: Metrics = {
    resourceMetrics: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
      scopeMetrics: [{
        scope: { name: 'sg' },
        metrics: [
          { name: 'traces_service_graph_request_total', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [
            { attributes: [{ key: 'client', value: { stringValue: 'a' } }], timeUnixNano: now, asInt: 7 },
            { attributes: [], timeUnixNano: now, asDouble: 0 },
          ] } },
          { name: 'h', unit: 's', histogram: { aggregationTemporality: 2, dataPoints: [
            { attributes: [], timeUnixNano: now, count: 3, sum: 0.6, bucketCounts: [1, 2, 0], explicitBounds: [0.1, 1] },
          ] } },
        ],
      }],
    }],
  };
  const bin = decodeMetricsRequest(encodeMetricsRequest(m));
  assert.ok(bin.ok);
  assert.equal(countDataPoints(bin.value), 3);
  const metrics = bin.value.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
  assert.equal(Number(int64ToBigInt(metrics[0]!.sum!.dataPoints[0]!.asInt)), 7);
  assert.equal(int64ToBigInt(metrics[0]!.sum!.dataPoints[0]!.timeUnixNano), 1_700_000_000_123_456_789n);
  assert.deepEqual(metrics[1]!.histogram!.dataPoints[0]!.bucketCounts.map((c) => Number(int64ToBigInt(c))), [1, 2, 0]);
  const json = JSON.parse(encodeMetricsRequestJson(bin.value));
  // A oneof member at its default (asDouble 0) must survive; 64-bit values are strings.
  assert.equal(json.resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[1].asDouble, 0);
  assert.equal(json.resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].asInt, '7');
  const back = decodeMetricsRequestJson(JSON.stringify(json));
  assert.ok(back.ok, !back.ok ? back.error : '');
  assert.deepEqual(JSON.parse(encodeMetricsRequestJson(back.value)), json);
});

test('responses: partial success and google.rpc.Status with RetryInfo', () => {
  assert.equal(decodeExportResponse('traces', encodeTraceResponse()).ok, true);
  const full = decodeExportResponse('traces', encodeTraceResponse());
  assert.ok(full.ok && full.value === undefined);
  const part = decodeExportResponse('traces', encodeTraceResponse({ rejected: 3, errorMessage: 'bad ids' }));
  assert.ok(part.ok);
  assert.deepEqual(part.value, { rejected: 3, errorMessage: 'bad ids' });
  const st = decodeRpcStatus(encodeRpcStatus(14, 'memory limit', 1500));
  assert.ok(st.ok);
  assert.deepEqual(st.value, { code: 14, message: 'memory limit', retryDelayMs: 1500 });
});
