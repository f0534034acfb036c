// receiver `otlp` driven by the OpenTelemetry JS SDK's real OTLP exporters (gRPC with gzip, and
// HTTP/protobuf), plus raw HTTP and gRPC requests for JSON, gzip/deflate, limits, malformed input,
// partial success (HTTP and gRPC) and memory-limiter refusals. All on 127.0.0.1 with ephemeral ports.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { startCollector, receiverPorts, captured, sdkClientServerSpans, waitFor } from '../../helpers/collector-harness.js';
import {
  bytesToHex, countSpans, countDataPoints, encodeTraceRequest, decodeExportResponse, decodeRpcStatus,
  traceServiceDefinition, hexToBytes, int64ToNumber, encodeLogsRequest, decodeLogsRequestJson, type Traces, type Metrics, type Logs,
} from '../../../../otel-collector/pdata/index.js';
import type { Service } from '../../../../otel-collector/service/service.js';

const services: Service[] = [];
after(async () => { for (const s of services) await s.shutdown(); });

const PIPE = (receiverExtra = '', processors = '[]') => `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0", max_request_body_size: 64KiB }
${receiverExtra}
exporters:
  capture/t: {}
  capture/m: {}
service:
  pipelines:
    traces: { receivers: [otlp], processors: ${processors}, exporters: [capture/t] }
    metrics: { receivers: [otlp], exporters: [capture/m] }
`;

async function start(yaml: string) {
  const svc = await startCollector(yaml);
  services.push(svc);
  return { svc, ports: receiverPorts(svc) };
}

function exportWith(exporter: SpanExporter, spans: ReadableSpan[]): Promise<{ code: ExportResultCode; error?: Error }> {
  return new Promise((res) => exporter.export(spans, (r) => res(r)));
}

function receivedSpanIds(id: string): Set<string> {
  const ids = new Set<string>();
  for (const c of captured.get(id) ?? []) {
    for (const rs of (c.data as Traces).resourceSpans) for (const ss of rs.scopeSpans) for (const sp of ss.spans) ids.add(bytesToHex(sp.spanId));
  }
  return ids;
}

test('JS SDK gRPC exporter with gzip delivers every span through the receiver', async () => {
  const { ports } = await start(PIPE());
  captured.get('capture/t')!.length = 0;
  const spans = await sdkClientServerSpans(50);
  const exporter = new GrpcTraceExporter({ url: `http://127.0.0.1:${ports.grpc}`, compression: 'gzip' as never });
  const r = await exportWith(exporter, spans);
  await exporter.shutdown();
  assert.equal(r.code, ExportResultCode.SUCCESS, r.error?.message);
  const got = receivedSpanIds('capture/t');
  assert.equal(got.size, 100);
  for (const s of spans) assert.ok(got.has(s.spanContext().spanId));
});

test('JS SDK HTTP/protobuf exporter delivers every span; metrics exporter delivers data points', async () => {
  const { ports } = await start(PIPE());
  const spans = await sdkClientServerSpans(10);
  const exporter = new ProtoTraceExporter({ url: `http://127.0.0.1:${ports.http}/v1/traces` });
  const r = await exportWith(exporter, spans);
  await exporter.shutdown();
  assert.equal(r.code, ExportResultCode.SUCCESS, r.error?.message);
  const got = receivedSpanIds('capture/t');
  for (const s of spans) assert.ok(got.has(s.spanContext().spanId));

  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `http://127.0.0.1:${ports.grpc}` }), exportIntervalMillis: 60_000,
  });
  const mp = new MeterProvider({ readers: [reader] });
  const counter = mp.getMeter('t').createCounter('requests');
  counter.add(3, { route: '/a' });
  counter.add(4, { route: '/b' });
  await mp.forceFlush();
  await mp.shutdown();
  const m = captured.get('capture/m')!;
  // forceFlush and shutdown each export the (cumulative) counter once: 2 points per export.
  assert.ok(m.length >= 1);
  for (const c of m) assert.equal(countDataPoints(c.data as never), 2);
  const sum = (m[0]!.data as Metrics).resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.sum!;
  assert.deepEqual(sum.dataPoints.map((p) => p.asDouble ?? int64ToNumber(p.asInt)).sort(), [3, 4]);
});

test('OTLP/HTTP JSON with gzip is accepted; the answer is JSON', async () => {
  const { ports } = await start(PIPE());
  const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{
    traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'json-span', kind: 2,
    startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000',
  }] }] }] });
  const res = await fetch(`http://127.0.0.1:${ports.http}/v1/traces`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: zlib.gzipSync(body),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(await res.json(), {});
  assert.ok(receivedSpanIds('capture/t').has('eee19b7ec3c1b174'));
});

test('invalid spans are dropped and reported as partial success; the valid ones go on', async () => {
  const { ports } = await start(PIPE());
  const t: Traces = { resourceSpans: [{ scopeSpans: [{ spans: [
    { traceId: hexToBytes('0af7651916cd43dd8448eb211c80319c'), spanId: hexToBytes('00f067aa0ba902b7'), name: 'good', kind: 2, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [] },
    { traceId: new Uint8Array(16), spanId: hexToBytes('00f067aa0ba902b8'), name: 'zero-trace', kind: 2, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [] },
  ] }] }] };
  const res = await fetch(`http://127.0.0.1:${ports.http}/v1/traces`, {
    method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTraceRequest(t),
  });
  assert.equal(res.status, 200);
  const ps = decodeExportResponse('traces', new Uint8Array(await res.arrayBuffer()));
  assert.ok(ps.ok);
  assert.equal(ps.value?.rejected, 1);
  assert.match(ps.value!.errorMessage, /zero-trace.*trace_id must be 16 bytes and not all zero/);
  const ids = receivedSpanIds('capture/t');
  assert.ok(ids.has('00f067aa0ba902b7'));
  assert.ok(!ids.has('00f067aa0ba902b8'));
});

test('OTLP/HTTP deflate bodies (protobuf and JSON) are inflated; the size limit holds after inflating; bad deflate is 400', async () => {
  const { svc, ports } = await start(PIPE());
  const url = `http://127.0.0.1:${ports.http}/v1/traces`;
  const t: Traces = { resourceSpans: [{ scopeSpans: [{ spans: [
    { traceId: hexToBytes('4bf92f3577b34da6a3ce929d0e0e4736'), spanId: hexToBytes('a3ce929d0e0e4736'), name: 'deflated', kind: 2, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [] },
  ] }] }] };
  const proto = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'deflate' }, body: zlib.deflateSync(encodeTraceRequest(t)) });
  assert.equal(proto.status, 200);
  const json = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' }, body: zlib.deflateSync(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{
    traceId: '4bf92f3577b34da6a3ce929d0e0e4737', spanId: 'a3ce929d0e0e4737', name: 'deflated-json', kind: 2, startTimeUnixNano: '1', endTimeUnixNano: '2',
  }] }] }] })) });
  assert.equal(json.status, 200);
  const ids = receivedSpanIds('capture/t');
  assert.ok(ids.has('a3ce929d0e0e4736') && ids.has('a3ce929d0e0e4737'));
  // 1 MiB of zeros deflates to ~1 KiB; the 64 KiB limit applies to the inflated body.
  const bomb = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'deflate' }, body: zlib.deflateSync(Buffer.alloc(1 << 20)) });
  assert.equal(bomb.status, 413);
  const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'deflate' }, body: Buffer.from('not deflate at all') });
  assert.equal(bad.status, 400);
  const st = decodeRpcStatus(new Uint8Array(await bad.arrayBuffer()));
  assert.ok(st.ok);
  assert.match(st.value.message, /cannot decompress deflate body/);
  assert.equal(svc.telemetry.total('receiver_accepted_items', { transport: 'http' }), 2);
});

test('HTTP limits and bad input: 413 too large (raw and after gunzip), 400 malformed, 415, 404, 405', async () => {
  const { svc, ports } = await start(PIPE());
  const url = `http://127.0.0.1:${ports.http}/v1/traces`;
  const big = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(100 * 1024) });
  assert.equal(big.status, 413);
  // 1 MiB of zeros gzips to ~1 KiB: the limit must hold after decompression too.
  const bomb = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, body: zlib.gzipSync(Buffer.alloc(1 << 20)) });
  assert.equal(bomb.status, 413);
  const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1]) });
  assert.equal(bad.status, 400);
  const st = decodeRpcStatus(new Uint8Array(await bad.arrayBuffer()));
  assert.ok(st.ok);
  assert.match(st.value.message, /malformed ExportTraceServiceRequest/);
  const badJson = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}' });
  assert.equal(badJson.status, 400);
  assert.match((await badJson.json() as { message: string }).message, /traceId/);
  assert.equal((await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status, 415);
  assert.equal((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, body: 'x' })).status, 415);
  assert.equal((await fetch(`http://127.0.0.1:${ports.http}/v1/nope`, { method: 'POST' })).status, 404);
  assert.equal((await fetch(url)).status, 405);
  const badGzip = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, body: 'not gzip' });
  assert.equal(badGzip.status, 400);
  assert.equal(svc.telemetry.total('receiver_malformed_requests', { transport: 'http' }), 2);
  // Every error answer is counted, by reason.
  const failed = (reason: string) => svc.telemetry.total('receiver_failed_requests', { transport: 'http', reason });
  assert.deepEqual(['body_too_large', 'decompressed_too_large', 'malformed', 'unsupported_content_type', 'unsupported_content_encoding', 'not_found', 'method_not_allowed', 'bad_compression'].map(failed),
    [1, 1, 2, 1, 1, 1, 1, 1]);
});

function grpcExport(port: number, body: Traces | Uint8Array): Promise<{ code: number; details: string; md?: grpc.Metadata }> {
  const Client = grpc.makeGenericClientConstructor({
    Export: { ...traceServiceDefinition.Export, requestSerialize: (v: Traces | Uint8Array) => Buffer.from(v instanceof Uint8Array ? v : encodeTraceRequest(v)) },
  } as never, 'TraceService');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Export(r: unknown, cb: (e: grpc.ServiceError | null) => void): void;
  };
  return new Promise((res) => client.Export(body, (e) => {
    client.close();
    res(e ? { code: e.code, details: e.details, md: e.metadata } : { code: 0, details: '' });
  }));
}

test('gRPC: malformed request is INVALID_ARGUMENT; over the message size limit is RESOURCE_EXHAUSTED', async () => {
  const { svc, ports } = await start(PIPE().replace('grpc: { endpoint: "127.0.0.1:0" }', 'grpc: { endpoint: "127.0.0.1:0", max_recv_msg_size_mib: 1 }'));
  const bad = await grpcExport(ports.grpc, Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1]));
  assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
  const huge: Traces = { resourceSpans: [{ scopeSpans: [{ spans: [
    { traceId: hexToBytes('0af7651916cd43dd8448eb211c80319c'), spanId: hexToBytes('00f067aa0ba902b7'), name: 'x'.repeat(2 << 20), kind: 1, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [] },
  ] }] }] };
  const big = await grpcExport(ports.grpc, huge);
  assert.equal(big.code, grpc.status.RESOURCE_EXHAUSTED);
  // Both counted, the size refusal too although grpc-js answers it before our handler runs.
  await waitFor(() => svc.telemetry.total('receiver_failed_requests', { transport: 'grpc' }) >= 2, 2000, 'failed gRPC calls counted');
  assert.equal(svc.telemetry.total('receiver_failed_requests', { transport: 'grpc', reason: 'resource_exhausted' }), 1);
  assert.equal(svc.telemetry.total('receiver_failed_requests', { transport: 'grpc', reason: 'invalid_argument' }), 1);
});

test('gRPC: invalid spans are dropped and answered as partial_success; the valid ones go on', async () => {
  const { svc, ports } = await start(PIPE());
  const t: Traces = { resourceSpans: [{ scopeSpans: [{ spans: [
    { traceId: hexToBytes('0af7651916cd43dd8448eb211c80319d'), spanId: hexToBytes('10f067aa0ba902b7'), name: 'good-grpc', kind: 2, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [] },
    { traceId: hexToBytes('0af7651916cd43dd8448eb211c80319d'), spanId: new Uint8Array(8), name: 'zero-span-id', kind: 2, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [] },
  ] }] }] };
  const resp = await new Promise<Buffer>((resolve, reject) => {
    const client = new grpc.Client(`127.0.0.1:${ports.grpc}`, grpc.credentials.createInsecure());
    client.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Export', (b: Buffer) => b, (b: Buffer) => b,
      Buffer.from(encodeTraceRequest(t)), (e, r) => { client.close(); if (e) reject(e); else resolve(r!); });
  });
  const ps = decodeExportResponse('traces', resp);
  assert.ok(ps.ok);
  assert.equal(ps.value?.rejected, 1);
  assert.match(ps.value!.errorMessage, /zero-span-id.*span_id must be 8 bytes and not all zero/);
  const ids = receivedSpanIds('capture/t');
  assert.ok(ids.has('10f067aa0ba902b7'));
  assert.ok(!ids.has('0000000000000000'));
  assert.equal(svc.telemetry.total('receiver_rejected_items', { transport: 'grpc' }), 1);
  assert.equal(svc.telemetry.total('receiver_accepted_items', { transport: 'grpc' }), 1);
});

test('memory_limiter above its soft limit: gRPC UNAVAILABLE with RetryInfo, HTTP 503 with Retry-After', async () => {
  // 1 MiB limit: any running Node process is above it, so every export is refused.
  const { svc, ports } = await start(PIPE('processors:\n  memory_limiter: { check_interval: 100ms, limit_mib: 1, spike_limit_mib: 0 }', '[memory_limiter]'));
  captured.get('capture/t')!.length = 0;
  const spans = await sdkClientServerSpans(1);
  const t: Traces = { resourceSpans: [{ scopeSpans: [{ spans: [
    { traceId: hexToBytes(spans[0]!.spanContext().traceId), spanId: hexToBytes(spans[0]!.spanContext().spanId), name: 'x', kind: 3, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [] },
  ] }] }] };
  const g = await grpcExport(ports.grpc, t);
  assert.equal(g.code, grpc.status.UNAVAILABLE);
  assert.match(g.details, /memory usage is above the soft limit/);
  const detail = g.md?.get('grpc-status-details-bin')[0] as Buffer;
  const st = decodeRpcStatus(detail);
  assert.ok(st.ok && st.value.retryDelayMs === 100);
  const h = await fetch(`http://127.0.0.1:${ports.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTraceRequest(t) });
  assert.equal(h.status, 503);
  assert.equal(h.headers.get('retry-after'), '1');
  assert.equal(captured.get('capture/t')!.length, 0);
  assert.equal(svc.telemetry.total('processor_refused_items', { reason: 'memory_limit' }), 2);
  assert.equal(svc.telemetry.total('receiver_refused_items'), 2);
});

test('memory_limiter below its limit passes data through', async () => {
  const { ports } = await start(PIPE('processors:\n  memory_limiter: { limit_percentage: 90, spike_limit_percentage: 10 }', '[memory_limiter]'));
  captured.get('capture/t')!.length = 0;
  const spans = await sdkClientServerSpans(5);
  const exporter = new GrpcTraceExporter({ url: `http://127.0.0.1:${ports.grpc}` });
  const r = await exportWith(exporter, spans);
  await exporter.shutdown();
  assert.equal(r.code, ExportResultCode.SUCCESS);
  await waitFor(() => receivedSpanIds('capture/t').size === 10, 2000, 'spans');
  assert.equal(countSpans(captured.get('capture/t')![0]!.data as Traces), 10);
});

test('logs: OTLP/HTTP JSON and OTLP/gRPC log records reach a logs pipeline', async () => {
  const svc = await startCollector(`
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" }, http: { endpoint: "127.0.0.1:0" } } } }
exporters: { capture/logs: }
service: { pipelines: { logs: { receivers: [otlp], exporters: [capture/logs] } } }
`);
  services.push(svc);
  const ports = receiverPorts(svc);
  const body = { resourceLogs: [{ scopeLogs: [{ logRecords: [
    { timeUnixNano: '1700000000000000000', severityNumber: 9, severityText: 'INFO', body: { stringValue: 'conntrack: 198.18.0.10:80 -> 198.18.1.5:8080' },
      attributes: [{ key: 'sockeye.nat', value: { boolValue: true } }], traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174' },
  ] }] }] };
  const res = await fetch(`http://127.0.0.1:${ports.http}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  const grpcRes = await new Promise<grpc.ServiceError | null>((resolve) => {
    const client = new grpc.Client(`127.0.0.1:${ports.grpc}`, grpc.credentials.createInsecure());
    const decoded = decodeLogsRequestJson(JSON.stringify(body));
    assert.ok(decoded.ok);
    const req = encodeLogsRequest(decoded.value);
    client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Buffer) => b, (b: Buffer) => b, Buffer.from(req), (e) => { client.close(); resolve(e); });
  });
  assert.equal(grpcRes, null);
  const got = captured.get('capture/logs')!;
  assert.equal(got.length, 2);
  for (const c of got) {
    const rec = (c.data as Logs).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    assert.equal(rec.body?.stringValue, 'conntrack: 198.18.0.10:80 -> 198.18.1.5:8080');
    assert.equal(bytesToHex(rec.traceId), '5b8efff798038103d269b633813fc60c');
    assert.equal(rec.attributes[0]!.value!.boolValue, true);
  }
});

test('gRPC receiver announces a 4 MiB HTTP/2 receive window per stream and per connection', async () => {
  const { ports } = await start(PIPE());
  const { connect } = await import('node:http2');
  const { GRPC_RECEIVE_WINDOW } = await import('../../../../otel-collector/receivers/otlp/grpc-receive-window.js');
  const session = connect(`http://127.0.0.1:${ports.grpc}`);
  try {
    const settings = await new Promise<{ initialWindowSize?: number }>((r) => session.once('remoteSettings', r));
    assert.equal(settings.initialWindowSize, GRPC_RECEIVE_WINDOW);
    // The connection window arrives as a WINDOW_UPDATE after the SETTINGS frame.
    await waitFor(() => (session.state.remoteWindowSize ?? 0) >= GRPC_RECEIVE_WINDOW, 2000);
  } finally {
    session.close();
  }
});
