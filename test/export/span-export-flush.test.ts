// forceFlush must leave the export counters final: the SDK processor's own flush sends what is
// queued but does not wait for a batch it already sent. A real OTLP/gRPC endpoint (grpc-js server
// on loopback) answers the first request slowly, so that batch is still in flight at flush time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SpanExport } from '../../agent/export/span-export.js';
import { createSpanExporter } from '../../agent/export/otlp-exporters.js';
import { TxSpan } from '../../agent/signals/tx-span.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';

const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };

test('forceFlush waits for a batch already in flight, so exported counts every span', async () => {
  const server = new grpc.Server();
  let requests = 0;
  server.addService({ Export: { path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', requestStream: false, responseStream: false, ...raw } }, {
    Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const delay = requests++ === 0 ? 800 : 20;
      setTimeout(() => cb(null, Buffer.alloc(0)), delay);
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const telemetry = new TelemetryRegistry();
  const exp = new SpanExport({ exporter: createSpanExporter({ protocol: 'grpc', endpoint: `http://127.0.0.1:${port}` }), telemetry,
    maxQueueSize: 1000, maxExportBatchSize: 100, scheduledDelayMillis: 10_000 });
  const resource = resourceFromAttributes({ 'service.name': 'flush-test' });
  try {
    for (let i = 0; i < 250; i++) {
      const s = new TxSpan('GET /x', SpanKind.SERVER, [1_700_000_000, i], [1_700_000_000, i + 1000], 1000, { 'http.request.method': 'GET' }, resource);
      s.traceId = (i + 1).toString(16).padStart(32, '0');
      s.spanId = (i + 1).toString(16).padStart(16, '0');
      exp.submit(s);
    }
    await exp.forceFlush();
    assert.equal(telemetry.get('sockeye_spans_exported_total'), 250, 'every submitted span is counted as exported once flush returns');
    assert.equal(requests, 3);
  } finally {
    await exp.shutdown();
    server.forceShutdown();
  }
});
