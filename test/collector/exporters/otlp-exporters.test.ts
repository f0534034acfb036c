// exporters `otlp_grpc` and `otlp_http` delivering to a second real collector (our otlp receiver),
// through outages (retry with backoff until it comes up), permanent refusals, a full queue,
// Retry-After, and exhausted retries — each loss counted in self-telemetry. A scripted
// @grpc/grpc-js server checks which gRPC codes are retried (RESOURCE_EXHAUSTED only with RetryInfo)
// and that a partial success is recorded, not retried.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { startCollector, receiverPorts, captured, sdkClientServerSpans, waitFor } from '../helpers/collector-harness.js';
import type { Service } from '../../../otel-collector/service/service.js';
import { backoffDelay } from '../../../otel-collector/exporters/exporter-helper/queued-retry-sender.js';
import { bytesToHex, encodeRpcStatus, encodeTraceResponse, type Traces } from '../../../otel-collector/pdata/index.js';
import type { AnyConsumer } from '../../../otel-collector/component/consumer.js';
import { ConsumerError } from '../../../otel-collector/component/consumer.js';
import { freePort } from '../../helpers/free-port.js';

const services: Service[] = [];
after(async () => { for (const s of services.reverse()) await s.shutdown(); });
async function collector(yaml: string) { const s = await startCollector(yaml); services.push(s); return s; }


const sink = (id: string, grpcPort: number | string, httpPort: number | string, extra = '') => `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:${grpcPort}" }
      http: { endpoint: "127.0.0.1:${httpPort}" }
${extra}
exporters:
  capture/${id}: {}
service:
  pipelines:
    traces: { receivers: [otlp], ${extra ? 'processors: [memory_limiter], ' : ''}exporters: [capture/${id}] }
`;

const forwarder = (exporter: string) => `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
processors:
  batch: { timeout: 20ms }
exporters:
${exporter}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [${exporter.trim().split(':')[0]}] }
`;

function spanIds(id: string): Set<string> {
  const out = new Set<string>();
  for (const c of captured.get(id) ?? []) for (const rs of (c.data as Traces).resourceSpans) for (const ss of rs.scopeSpans) for (const sp of ss.spans) out.add(bytesToHex(sp.spanId));
  return out;
}

async function sendViaSdk(svc: Service, n: number) {
  const spans = await sdkClientServerSpans(n);
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${receiverPorts(svc).grpc}` });
  const r = await new Promise<{ code: ExportResultCode; error?: Error }>((res) => exporter.export(spans, res));
  await exporter.shutdown();
  assert.equal(r.code, ExportResultCode.SUCCESS, r.error?.message);
  return spans.map((s) => s.spanContext().spanId);
}

function oneSpan(): Traces {
  const t = new Uint8Array(16); t.set([1, 2, 3, 4], 0); t[15] = Math.floor(Math.random() * 255) + 1;
  const s = new Uint8Array(8); s[0] = 9; s[7] = Math.floor(Math.random() * 255) + 1;
  return { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: t, spanId: s, name: 'x', kind: 3, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [] }] }] }] };
}

test('otlp_grpc and otlp_http (proto and JSON) forward every span to another collector', async () => {
  const b = await collector(sink('fwd', 0, 0));
  const { grpc, http } = receiverPorts(b);
  for (const exp of [
    `  otlp_grpc: { endpoint: "127.0.0.1:${grpc}" }`,
    `  otlp_http: { endpoint: "http://127.0.0.1:${http}", encoding: proto }`,
    `  otlp_http/json: { endpoint: "http://127.0.0.1:${http}", encoding: json, compression: none }`,
  ]) {
    const a = await collector(forwarder(exp));
    const ids = await sendViaSdk(a, 20);
    await waitFor(() => ids.every((i) => spanIds('capture/fwd').has(i)), 5000, `spans via ${exp.trim()}`);
    await waitFor(() => a.telemetry.total('exporter_sent_items') === 40, 2000, `sent count via ${exp.trim()}`);
  }
});

test('otlp_grpc retries with backoff while the server is down and delivers once it is up', async () => {
  const port = await freePort();
  const a = await collector(forwarder(`  otlp_grpc: { endpoint: "127.0.0.1:${port}", retry_on_failure: { initial_interval: 50ms, max_interval: 200ms } }`));
  const ids = await sendViaSdk(a, 5);
  await new Promise((r) => setTimeout(r, 400)); // a few failed attempts
  assert.equal(a.telemetry.total('exporter_sent_items'), 0);
  await collector(sink('late', port, 0));
  await waitFor(() => ids.every((i) => spanIds('capture/late').has(i)), 5000, 'delivery after the outage');
  await waitFor(() => a.telemetry.total('exporter_sent_items') === 10, 2000, 'sent count');
  assert.equal(a.telemetry.total('exporter_send_failed_items'), 0);
});

test('permanent refusal is not retried; exhausted retries and Retry-After drop and count', async () => {
  // B takes only metrics: a traces export is refused as INVALID_ARGUMENT (permanent).
  const b = await collector(`
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" }, http: { endpoint: "127.0.0.1:0" } } } }
exporters: { capture/metrics-only: }
service: { pipelines: { metrics: { receivers: [otlp], exporters: [capture/metrics-only] } } }`);
  const a = await collector(forwarder(`  otlp_grpc: { endpoint: "127.0.0.1:${receiverPorts(b).grpc}", retry_on_failure: { initial_interval: 50ms } }`));
  await sendViaSdk(a, 3);
  await waitFor(() => a.telemetry.total('exporter_send_failed_items', { reason: 'permanent_error' }) === 6, 3000, 'permanent drop');

  const down = await freePort();
  const c = await collector(forwarder(`  otlp_grpc: { endpoint: "127.0.0.1:${down}", retry_on_failure: { initial_interval: 50ms, max_interval: 50ms, max_elapsed_time: 300ms } }`));
  await sendViaSdk(c, 2);
  await waitFor(() => c.telemetry.total('exporter_send_failed_items', { reason: 'retries_exhausted' }) === 4, 3000, 'retries to run out');

  // A server above its memory limit answers 503 Retry-After: 1; a 500ms retry budget cannot wait that long.
  const full = await collector(sink('full', 0, 0, 'processors:\n  memory_limiter: { limit_mib: 1, check_interval: 1s }'));
  const d = await collector(forwarder(`  otlp_http: { endpoint: "http://127.0.0.1:${receiverPorts(full).http}", retry_on_failure: { initial_interval: 10ms, max_elapsed_time: 500ms } }`));
  const started = Date.now();
  await sendViaSdk(d, 1);
  await waitFor(() => d.telemetry.total('exporter_send_failed_items', { reason: 'retries_exhausted' }) === 2, 3000, 'Retry-After to exceed the budget');
  assert.ok(Date.now() - started < 1000, 'gave up at once instead of retrying sooner than Retry-After');
  assert.equal(full.telemetry.total('receiver_refused_items'), 2, 'exactly one attempt reached the server');
});

test('a full sending queue refuses with a retryable error and counts the items', async () => {
  const down = await freePort();
  const a = await collector(`
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" } } } }
exporters:
  otlp_grpc: { endpoint: "127.0.0.1:${down}", sending_queue: { num_consumers: 1, queue_size: 1 }, retry_on_failure: { initial_interval: 10s } }
service: { pipelines: { traces: { receivers: [otlp], exporters: [otlp_grpc] } } }`);
  const exp = a.component('exporter', 'otlp_grpc') as unknown as AnyConsumer;
  await exp.consumeTraces!(oneSpan()); // taken by the worker, now waiting to retry
  await new Promise((r) => setTimeout(r, 100));
  await exp.consumeTraces!(oneSpan()); // waits in the queue
  await assert.rejects(exp.consumeTraces!(oneSpan()), (e: unknown) => e instanceof ConsumerError && e.retryable && /sending queue is full/.test(e.message));
  assert.equal(a.telemetry.total('exporter_enqueue_failed_items'), 1);
  await a.shutdown();
  services.splice(services.indexOf(a), 1);
  // On shutdown the in-flight and queued requests are dropped and counted, not lost silently.
  assert.equal(a.telemetry.total('exporter_send_failed_items', { reason: 'shutdown' }), 2);
});

test('backoff grows by the multiplier up to max_interval, within the jitter band', () => {
  const r = { enabled: true, initial_interval: 100, max_interval: 1000, max_elapsed_time: 0, multiplier: 2, randomization_factor: 0.5 };
  assert.equal(backoffDelay(0, r, () => 0.5), 100);
  assert.equal(backoffDelay(2, r, () => 0.5), 400);
  assert.equal(backoffDelay(10, r, () => 0.5), 1000);
  assert.equal(backoffDelay(1, r, () => 0), 100);
  assert.equal(backoffDelay(1, r, () => 1), 300);
});

// ---- a scripted OTLP/gRPC server: each Export call takes the next answer (the last one repeats).
type Answer = { ok: true; rejected?: number; message?: string } | { code: grpc.status; details?: Buffer };
interface Scripted { port: number; calls: number[]; stop(): Promise<void> }
async function scriptedServer(answers: Answer[]): Promise<Scripted> {
  const calls: number[] = [];
  const raw = (b: Buffer) => b;
  const server = new grpc.Server();
  server.addService({ Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', requestStream: false, responseStream: false,
    requestDeserialize: raw, requestSerialize: raw, responseSerialize: raw, responseDeserialize: raw,
  } }, {
    Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const a = answers[Math.min(calls.length, answers.length - 1)]!;
      calls.push(Date.now());
      if ('ok' in a) { cb(null, Buffer.from(encodeTraceResponse(a.rejected ? { rejected: a.rejected, errorMessage: a.message ?? '' } : undefined))); return; }
      const metadata = new grpc.Metadata();
      if (a.details) metadata.set('grpc-status-details-bin', a.details);
      cb({ code: a.code, details: `scripted ${grpc.status[a.code]}`, metadata });
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { port, calls, stop: () => new Promise((res) => server.tryShutdown(() => res())) };
}
const scripted: Scripted[] = [];
after(async () => { for (const x of scripted) await x.stop(); });

/** An otlp_grpc exporter to `port` without a queue, so consume resolves or throws with the outcome. */
async function directExporter(port: number, retry = 'initial_interval: 10ms, max_interval: 20ms, max_elapsed_time: 3s') {
  const svc = await collector(`
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" } } } }
exporters:
  otlp_grpc: { endpoint: "127.0.0.1:${port}", sending_queue: { enabled: false }, retry_on_failure: { ${retry} } }
service: { pipelines: { traces: { receivers: [otlp], exporters: [otlp_grpc] } } }`);
  return { svc, exp: svc.component('exporter', 'otlp_grpc') as unknown as AnyConsumer };
}
async function serverWith(answers: Answer[]) { const s = await scriptedServer(answers); scripted.push(s); return s; }
const twoSpans = (): Traces => {
  const a = oneSpan(), b = oneSpan();
  a.resourceSpans[0]!.scopeSpans[0]!.spans.push(...b.resourceSpans[0]!.scopeSpans[0]!.spans);
  return a;
};

test('RESOURCE_EXHAUSTED with a google.rpc.RetryInfo is retried after the delay it asks for', async () => {
  const srv = await serverWith([
    { code: grpc.status.RESOURCE_EXHAUSTED, details: Buffer.from(encodeRpcStatus(grpc.status.RESOURCE_EXHAUSTED, 'slow down', 300)) },
    { ok: true },
  ]);
  const { svc, exp } = await directExporter(srv.port);
  await exp.consumeTraces!(twoSpans());
  assert.equal(srv.calls.length, 2, 'one retry');
  assert.ok(srv.calls[1]! - srv.calls[0]! >= 290, `retried after ${srv.calls[1]! - srv.calls[0]!}ms; RetryInfo asked for 300ms (backoff alone: ~10ms)`);
  assert.equal(svc.telemetry.total('exporter_sent_items'), 2);
  assert.equal(svc.telemetry.total('exporter_send_failed_items'), 0);
});

test('RESOURCE_EXHAUSTED with a RetryInfo that names no delay is still retried (backoff only)', async () => {
  // google.rpc.Status { code: 8, details: [Any { type_url: ".../google.rpc.RetryInfo", value: RetryInfo {} }] }
  const typeUrl = Buffer.from('type.googleapis.com/google.rpc.RetryInfo');
  const any = Buffer.concat([Buffer.from([0x0a, typeUrl.length]), typeUrl]);
  const status = Buffer.concat([Buffer.from([0x08, grpc.status.RESOURCE_EXHAUSTED, 0x1a, any.length]), any]);
  const srv = await serverWith([{ code: grpc.status.RESOURCE_EXHAUSTED, details: status }, { ok: true }]);
  const { svc, exp } = await directExporter(srv.port);
  await exp.consumeTraces!(oneSpan());
  assert.equal(srv.calls.length, 2);
  assert.equal(svc.telemetry.total('exporter_sent_items'), 1);
});

test('RESOURCE_EXHAUSTED without RetryInfo is permanent: one attempt, the spans counted as dropped', async () => {
  const srv = await serverWith([{ code: grpc.status.RESOURCE_EXHAUSTED }, { ok: true }]);
  const { svc, exp } = await directExporter(srv.port);
  await assert.rejects(exp.consumeTraces!(twoSpans()), (e: unknown) => e instanceof ConsumerError && !e.retryable && /RESOURCE_EXHAUSTED/.test(e.message));
  await new Promise((r) => setTimeout(r, 100)); // no retry comes later either
  assert.equal(srv.calls.length, 1);
  assert.equal(svc.telemetry.total('exporter_send_failed_items', { reason: 'permanent_error' }), 2);
  assert.equal(svc.telemetry.total('exporter_sent_items'), 0);
});

test('retryable gRPC codes are retried and the others are not', async () => {
  const retryable = [grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.ABORTED, grpc.status.OUT_OF_RANGE, grpc.status.CANCELLED, grpc.status.DATA_LOSS];
  const permanent = [grpc.status.INVALID_ARGUMENT, grpc.status.PERMISSION_DENIED, grpc.status.UNAUTHENTICATED, grpc.status.UNIMPLEMENTED, grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.NOT_FOUND, grpc.status.FAILED_PRECONDITION];
  for (const code of [...retryable, ...permanent]) {
    const srv = await serverWith([{ code }, { ok: true }]);
    const { svc, exp } = await directExporter(srv.port);
    const outcome = await exp.consumeTraces!(oneSpan()).then(() => 'delivered', () => 'dropped');
    const name = grpc.status[code];
    if (retryable.includes(code)) {
      assert.equal(outcome, 'delivered', `${name} should be retried`);
      assert.equal(srv.calls.length, 2, name);
    } else {
      assert.equal(outcome, 'dropped', `${name} should not be retried`);
      assert.equal(srv.calls.length, 1, name);
      assert.equal(svc.telemetry.total('exporter_send_failed_items', { reason: 'permanent_error' }), 1, name);
    }
  }
});

test('partial_success is not retried; the rejected spans are counted, the rest as sent', async () => {
  const srv = await serverWith([{ ok: true, rejected: 1, message: 'span name too long' }]);
  const { svc, exp } = await directExporter(srv.port);
  await exp.consumeTraces!(twoSpans());
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(srv.calls.length, 1);
  assert.equal(svc.telemetry.total('exporter_send_failed_items', { reason: 'partial_success' }), 1);
  assert.equal(svc.telemetry.total('exporter_sent_items'), 1);
});
