// OTLP/gRPC span export against a real @grpc/grpc-js TraceService on loopback that answers with
// scripted statuses: retryable codes are retried with backoff, RESOURCE_EXHAUSTED only with
// RetryInfo, other codes and partial_success are not retried — and every outcome is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { createSpanExporter } from '../../agent/export/otlp-exporters.js';
import { retryDecision } from '../../agent/export/otlp-grpc-retry.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { countSpans, encodeRpcStatus, grpcRetry, traceServiceDefinition, type GrpcExportResponse, type Traces } from '../../otel-collector/pdata/index.js';
import { httpTx } from '../signals/helpers/make-transaction.js';

type Answer = { code: grpc.status; retryDelayMs?: number } | { rejected: number } | 'ok';

/** A TraceService whose n-th Export gets answers[n] ('ok' once the script runs out). */
async function scriptedServer(answers: Answer[]) {
  const calls: { at: number; spans: number }[] = [];
  const server = new grpc.Server();
  server.addService(traceServiceDefinition, {
    Export: (call: grpc.ServerUnaryCall<Traces, GrpcExportResponse>, cb: grpc.sendUnaryData<GrpcExportResponse>) => {
      calls.push({ at: Date.now(), spans: countSpans(call.request) });
      const a = answers[calls.length - 1] ?? 'ok';
      if (a === 'ok') { cb(null, {}); return; }
      if ('rejected' in a) { cb(null, { partialSuccess: { rejectedSpans: a.rejected, errorMessage: 'spans too old' } }); return; }
      const metadata = new grpc.Metadata();
      if (a.retryDelayMs !== undefined) metadata.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(a.code, 'busy', a.retryDelayMs)));
      cb({ code: a.code, details: 'scripted', metadata } as grpc.ServiceError, null);
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { endpoint: `http://127.0.0.1:${port}`, calls, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

async function exportFive(answers: Answer[], timeoutMs = 8000) {
  const srv = await scriptedServer(answers);
  const telemetry = new TelemetryRegistry();
  const p = new SignalPipeline({ telemetry, clock: fromEpoch(1_700_000_000, 0), linkWaitMs: 0, spanDelayMs: 20, exportTimeoutMs: timeoutMs,
    spanExporter: createSpanExporter({ protocol: 'grpc', endpoint: srv.endpoint, timeoutMs }, 'fast', { telemetry }) });
  try {
    for (let i = 0; i < 5; i++) p.onTransaction(httpTx({ target: `/r/${i}` }));
    await p.flush();
  } finally {
    await p.shutdown();
    await srv.close();
  }
  const get = (name: string, labels?: Record<string, string>) => telemetry.get(name, labels);
  return {
    calls: srv.calls,
    exported: get('sockeye_spans_exported_total'),
    failed: get('sockeye_spans_dropped_total', { reason: 'export_failed' }),
    retries: get('sockeye_otlp_export_retries_total'),
    exhausted: get('sockeye_otlp_export_retries_exhausted_total'),
    rejected: get('sockeye_spans_rejected_total'),
  };
}

test('UNAVAILABLE twice, then OK: the same batch is sent three times, with growing backoff, and delivered', async () => {
  const r = await exportFive([{ code: grpc.status.UNAVAILABLE }, { code: grpc.status.UNAVAILABLE }]);
  assert.equal(r.calls.length, 3);
  assert.ok(r.calls.every((c) => c.spans === 5));
  const gap1 = r.calls[1]!.at - r.calls[0]!.at;
  const gap2 = r.calls[2]!.at - r.calls[1]!.at;
  // 500 ms then 750 ms, each ±20 % jitter: lower bounds only (a loaded machine only adds delay).
  assert.ok(gap1 >= 390 && gap2 >= 590, `backoff ${gap1} ms then ${gap2} ms`);
  assert.deepEqual([r.exported, r.failed, r.retries, r.exhausted], [5, 0, 2, 0]);
});

test('RESOURCE_EXHAUSTED with RetryInfo waits the delay the server asked for and retries', async () => {
  const r = await exportFive([{ code: grpc.status.RESOURCE_EXHAUSTED, retryDelayMs: 1200 }]);
  assert.equal(r.calls.length, 2);
  assert.ok(r.calls[1]!.at - r.calls[0]!.at >= 1150, `retried after ${r.calls[1]!.at - r.calls[0]!.at} ms`);
  assert.deepEqual([r.exported, r.failed, r.retries], [5, 0, 1]);
});

test('RESOURCE_EXHAUSTED without RetryInfo and INVALID_ARGUMENT are final: one attempt, spans counted as failed', async () => {
  for (const code of [grpc.status.RESOURCE_EXHAUSTED, grpc.status.INVALID_ARGUMENT]) {
    const r = await exportFive([{ code }]);
    assert.equal(r.calls.length, 1, grpc.status[code]);
    assert.deepEqual([r.exported, r.failed, r.retries, r.exhausted], [0, 5, 0, 0], grpc.status[code]);
  }
});

test('retries stop at the export timeout and the loss is counted', async () => {
  const r = await exportFive(Array.from({ length: 20 }, () => ({ code: grpc.status.UNAVAILABLE })), 1500);
  assert.ok(r.calls.length >= 2 && r.calls.length <= 4, `${r.calls.length} attempts in 1.5 s`);
  assert.ok(r.calls.at(-1)!.at - r.calls[0]!.at < 1500);
  assert.deepEqual([r.exported, r.failed, r.exhausted], [0, 5, 1]);
});

test('partial_success is not retried; the rejected spans are counted', async () => {
  const r = await exportFive([{ rejected: 2 }]);
  assert.equal(r.calls.length, 1);
  assert.deepEqual([r.exported, r.rejected, r.retries], [5, 2, 0]);
});

test('retry decisions and RetryInfo decoding', () => {
  const md = (ms?: number) => {
    const m = new grpc.Metadata();
    if (ms !== undefined) m.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(8, 'x', ms)));
    return m;
  };
  for (const code of [1, 4, 10, 11, 14, 15]) assert.equal(retryDecision({ code, metadata: md() }).retry, true, `code ${code}`);
  for (const code of [2, 3, 5, 7, 8, 12, 13, 16]) assert.equal(retryDecision({ code, metadata: md() }).retry, false, `code ${code}`);
  assert.deepEqual(retryDecision({ code: 8, metadata: md(2500) }), { retry: true, afterMs: 2500 });
  assert.equal(retryDecision(new Error('not a gRPC error')).retry, false);
  const retryInfoDelayMs = (details: Uint8Array) => grpcRetry(8, details).retryDelayMs;
  assert.equal(retryInfoDelayMs(encodeRpcStatus(8, 'x', 1500)), 1500);
  assert.equal(retryInfoDelayMs(encodeRpcStatus(8, 'x')), undefined);
  assert.equal(retryInfoDelayMs(Uint8Array.from([0x1a, 0xff, 0x01])), undefined, 'truncated status: no RetryInfo, no throw');
});
