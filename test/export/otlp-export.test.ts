// The signal stage end to end against a real OTLP receiver in this test (gRPC and http/protobuf),
// decoded with the official OTLP protobuf schema: transactions in, OTLP requests out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { createMetricExporter, createSpanExporter, type OtlpProtocol } from '../../agent/export/otlp-exporters.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { DURATION_BUCKETS_S, SCHEMA_URL } from '../../common/semconv/semconv.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { OtlpTestReceiver } from '../signals/helpers/otlp-test-receiver.js';
import { dnsTx, grpcTx, httpTx } from '../signals/helpers/make-transaction.js';

function pipelineTo(endpoint: string, protocol: OtlpProtocol, telemetry = new TelemetryRegistry()) {
  const target = { protocol, endpoint, timeoutMs: 2000 };
  return new SignalPipeline({ telemetry, clock: fromEpoch(1_700_000_000, 0), spanExporter: createSpanExporter(target),
    metricExporter: createMetricExporter(target), metricExportIntervalMs: 60_000, linkWaitMs: 0, spanDelayMs: 50 });
}

for (const protocol of ['grpc', 'http/protobuf'] as const) {
  test(`spans and RED histograms reach a real OTLP receiver over ${protocol}`, async () => {
    const rx = await OtlpTestReceiver.start();
    const telemetry = new TelemetryRegistry();
    const p = pipelineTo(protocol === 'grpc' ? rx.grpcEndpoint : rx.httpEndpoint, protocol, telemetry);
    try {
      // 7 transactions: latencies 25 ms (x3 200, x1 500), 10 ms gRPC x2, 2 ms DNS.
      for (let i = 0; i < 3; i++) p.onTransaction(httpTx({ target: `/orders/${i}` }));
      p.onTransaction(httpTx({ target: '/orders/9', status: 500 }));
      p.onTransaction(grpcTx('client', 0));
      p.onTransaction(grpcTx('client', 14));
      p.onTransaction(dnsTx('NXDOMAIN'));
      await p.flush();
      await rx.waitFor(() => rx.spans().length >= 7 && rx.metricRequests.length > 0);
      const spans = rx.spans();
      assert.equal(spans.length, 7);
      assert.equal(spans.filter((s) => s.name === 'GET /orders/{id}').length, 4);
      const s500 = spans.find((s) => s.attributes['http.response.status_code'] === 500)!;
      assert.equal(s500.kind, 2); // SERVER
      assert.equal(s500.statusCode, 2); // ERROR
      assert.equal(s500.attributes['error.type'], '500');
      assert.equal(s500.startNs, 1_700_000_001_000_000_000n);
      assert.equal(s500.endNs - s500.startNs, 25_000_000n);
      assert.equal(s500.resource['process.pid'], process.pid);
      assert.equal(s500.schemaUrl, SCHEMA_URL);
      assert.equal(s500.scopeName, 'sockeye-agent');
      const unavailable = spans.find((s) => s.attributes['rpc.status_code'] === 'UNAVAILABLE')!;
      assert.equal(unavailable.kind, 3); // CLIENT
      assert.equal(unavailable.statusCode, 2);
      assert.ok(spans.find((s) => s.name === 'DNS A' && s.attributes['dns.response_code'] === 'NXDOMAIN'));
      // Spans of one process share one ResourceSpans (the Resource object is reused per process):
      // within a request, no two ResourceSpans carry the same resource.
      for (const req of rx.traceRequests) {
        const keys = req.resourceSpans.map((r) => JSON.stringify(r.resource?.attributes));
        assert.equal(new Set(keys).size, keys.length);
      }

      const points = rx.points();
      const http = points.filter((pt) => pt.metric === 'http.server.request.duration');
      assert.equal(http.reduce((a, pt) => a + pt.count, 0), 4);
      for (const pt of points) {
        assert.equal(pt.unit, 's');
        assert.deepEqual(pt.bounds, DURATION_BUCKETS_S);
      }
      const ok = http.find((pt) => pt.attributes['http.response.status_code'] === 200)!;
      assert.equal(ok.count, 3);
      assert.equal(ok.attributes['http.route'], '/orders/{id}');
      assert.equal(ok.bucketCounts[2], 3, '25 ms falls in the (0.01, 0.025] bucket');
      assert.ok(Math.abs(ok.sum - 0.075) < 1e-9);
      assert.equal(http.find((pt) => pt.attributes['http.response.status_code'] === 500)!.attributes['error.type'], '500');
      assert.equal(points.filter((pt) => pt.metric === 'rpc.client.call.duration').reduce((a, pt) => a + pt.count, 0), 2);
      assert.equal(points.find((pt) => pt.metric === 'dns.lookup.duration')!.attributes['error.type'], 'NXDOMAIN');
      assert.equal(telemetry.get('sockeye_spans_exported_total'), 7);
      assert.equal(telemetry.get('sockeye_spans_dropped_total', { reason: 'export_failed' }), 0);
    } finally {
      await p.shutdown();
      await rx.close();
    }
  });
}

test('no backend: export fails quietly and every lost span and metric point is counted', async () => {
  const rx = await OtlpTestReceiver.start();
  const dead = rx.grpcEndpoint;
  await rx.close(); // nothing listens there any more
  const telemetry = new TelemetryRegistry();
  const p = pipelineTo(dead, 'grpc', telemetry);
  for (let i = 0; i < 5; i++) p.onTransaction(httpTx({}));
  await p.flush();
  await p.shutdown();
  assert.equal(telemetry.get('sockeye_spans_dropped_total', { reason: 'export_failed' }), 5);
  assert.equal(telemetry.get('sockeye_spans_exported_total'), 0);
  assert.ok(telemetry.get('sockeye_metric_points_dropped_total', { reason: 'export_failed' }) >= 1);
});

test('a full span queue drops and counts, never blocks', async () => {
  const rx = await OtlpTestReceiver.start();
  const telemetry = new TelemetryRegistry();
  const target = { protocol: 'grpc' as const, endpoint: rx.grpcEndpoint };
  const p = new SignalPipeline({ telemetry, clock: fromEpoch(0, 0), spanExporter: createSpanExporter(target), spanQueueSize: 10,
    spanBatchSize: 10, spanDelayMs: 60_000, linkWaitMs: 0 });
  try {
    // Synchronous burst: the processor takes at most one batch in flight plus a full queue.
    for (let i = 0; i < 25; i++) p.onTransaction(httpTx({}));
    const dropped = telemetry.get('sockeye_spans_dropped_total', { reason: 'queue_full' });
    assert.ok(dropped >= 5, `dropped ${dropped}`);
    await p.flush();
    await rx.waitFor(() => rx.spans().length >= 25 - dropped);
    assert.equal(rx.spans().length + dropped, 25, 'every span is either delivered or counted as dropped');
    assert.equal(telemetry.get('sockeye_spans_exported_total'), 25 - dropped);
  } finally {
    await p.shutdown();
    await rx.close();
  }
});
