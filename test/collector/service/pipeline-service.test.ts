// The service as a whole: receivers fanning out to several pipelines, a data-changing processor
// that must not leak its edits into a sibling pipeline, batching by size, time and max size,
// health_check reporting readiness, and the self-telemetry endpoint.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startCollector, receiverPorts, captured, waitFor } from '../helpers/collector-harness.js';
import type { Service } from '../../../otel-collector/service/service.js';
import { object } from '../../../common/config/config-schema.js';
import { consumeFn } from '../../../otel-collector/component/consumer.js';
import type { ProcessorFactory, AnyFactory } from '../../../otel-collector/component/factory.js';
import { countSpans, encodeTraceRequest, type Traces } from '../../../otel-collector/pdata/index.js';
import type { HealthCheck } from '../../../otel-collector/extensions/health-check/health-check-extension.js';
import { freePort } from '../../helpers/free-port.js';

const services: Service[] = [];
after(async () => { for (const s of services) await s.shutdown(); });
async function collector(yaml: string, extra: AnyFactory[] = []) { const s = await startCollector(yaml, extra); services.push(s); return s; }

// Renames every span in place: stands in for an enrichment processor (k8s_attributes, nat).
const renameProcessor: ProcessorFactory = {
  type: 'rename', kind: 'processor', signals: ['traces'], mutatesData: true, config: object({}),
  create(_s, _c, _sig, next) {
    const send = consumeFn(next, 'traces')!;
    return {
      async consumeTraces(t: Traces) {
        for (const rs of t.resourceSpans) for (const ss of rs.scopeSpans) for (const sp of ss.spans) sp.name = 'renamed';
        return send(t);
      },
      async start() {}, async shutdown() {},
    };
  },
};

let n = 0;
function spans(count: number, name = 'orig'): Traces {
  return { resourceSpans: [{ scopeSpans: [{ spans: Array.from({ length: count }, () => {
    const t = new Uint8Array(16); t[0] = 1; new DataView(t.buffer).setUint32(12, ++n);
    const s = new Uint8Array(8); s[0] = 1; new DataView(s.buffer).setUint32(4, n);
    return { traceId: t, spanId: s, name, kind: 2, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [] };
  }) }] }] };
}
const names = (id: string) => (captured.get(id) ?? []).flatMap((c) => (c.data as Traces).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name))));
const post = (port: number, t: Traces) => fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTraceRequest(t) });

test('one receiver feeds two pipelines; a mutating processor in one does not change the other', async () => {
  const svc = await collector(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
processors: { rename: }
exporters: { capture/plain: , capture/renamed: }
service:
  pipelines:
    traces/plain: { receivers: [otlp], exporters: [capture/plain] }
    traces/renamed: { receivers: [otlp], processors: [rename], exporters: [capture/renamed] }
`, [renameProcessor as AnyFactory]);
  const res = await post(receiverPorts(svc).http, spans(3));
  assert.equal(res.status, 200);
  assert.deepEqual(names('capture/plain'), ['orig', 'orig', 'orig']);
  assert.deepEqual(names('capture/renamed'), ['renamed', 'renamed', 'renamed']);
  assert.equal(svc.telemetry.total('receiver_accepted_items'), 3);
});

test('batch: sends full batches at send_batch_size, splits at send_batch_max_size, flushes the rest on shutdown', async () => {
  const svc = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
processors: { batch: { send_batch_size: 10, send_batch_max_size: 10, timeout: 1h } }
exporters: { capture/batched: }
service: { pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [capture/batched] } } }
`);
  const port = receiverPorts(svc).http;
  // A sender is answered once its batch went on, so these requests run side by side.
  const answered: Promise<Response>[] = [];
  for (let i = 0; i < 12; i++) answered.push(post(port, spans(1)));
  await waitFor(() => (captured.get('capture/batched') ?? []).length === 1, 2000, 'first batch');
  answered.push(post(port, spans(25))); // 2 pending + 25 = 27 → 10, 10, 7
  await waitFor(() => (captured.get('capture/batched') ?? []).length === 4, 2000, 'split batches');
  assert.deepEqual((await Promise.all(answered)).map((r) => r.status), Array(13).fill(200), 'every sender answered after its batch went on');
  const last = post(port, spans(3)).catch(() => undefined); // waits for the batch (1h) or shutdown
  await new Promise((r) => setTimeout(r, 300));
  const sizes = () => captured.get('capture/batched')!.map((c) => countSpans(c.data as Traces));
  assert.deepEqual(sizes(), [10, 10, 10, 7]);
  await svc.shutdown(); // the 3 waiting spans go out before the exporter stops
  await last;
  assert.deepEqual(sizes(), [10, 10, 10, 7, 3]);
  assert.equal(svc.telemetry.total('processor_batch_sent_items'), 40);
});

test('batch: a partial batch goes out after timeout', async () => {
  const svc = await collector(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
processors: { batch: { send_batch_size: 1000, timeout: 50ms } }
exporters: { capture/timed: }
service: { pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [capture/timed] } } }
`);
  const started = Date.now();
  const answers = await Promise.all([post(receiverPorts(svc).http, spans(3)), post(receiverPorts(svc).http, spans(2))]);
  assert.deepEqual(answers.map((r) => r.status), [200, 200]);
  assert.ok(Date.now() - started >= 40, 'the senders were answered when the batch went on, after the timeout');
  assert.equal((captured.get('capture/timed') ?? []).length, 1);
  assert.equal(countSpans(captured.get('capture/timed')![0]!.data as Traces), 5);
});

test('batch: when the next stage refuses a batch, its senders get the refusal (503 + Retry-After), not 200', async () => {
  // memory_limiter after the batch with a 1 MiB limit refuses every batch, retryably.
  const svc = await collector(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
processors: { batch: { send_batch_size: 1000, timeout: 50ms }, memory_limiter: { check_interval: 100ms, limit_mib: 1, spike_limit_mib: 0 } }
exporters: { capture/refused: }
service: { pipelines: { traces: { receivers: [otlp], processors: [batch, memory_limiter], exporters: [capture/refused] } } }
`);
  const answers = await Promise.all([post(receiverPorts(svc).http, spans(3)), post(receiverPorts(svc).http, spans(2))]);
  assert.deepEqual(answers.map((r) => r.status), [503, 503]);
  assert.ok(answers.every((r) => r.headers.get('retry-after') !== null));
  assert.equal((captured.get('capture/refused') ?? []).length, 0);
  assert.equal(svc.telemetry.total('processor_batch_dropped_items'), 5);
  assert.equal(svc.telemetry.total('receiver_refused_items'), 5, 'the receiver counts them as refused: the senders know');
  assert.equal(svc.telemetry.total('receiver_accepted_items'), 0);
});


test('health_check is 200 while running and 503 after a fatal error; self-telemetry is served', async () => {
  const telPort = await freePort();
  const svc = await collector(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
exporters: { capture/h: }
extensions: { health_check: { endpoint: "127.0.0.1:0", path: /healthz } }
service:
  extensions: [health_check]
  telemetry: { metrics: { address: "127.0.0.1:${telPort}" } }
  pipelines: { traces: { receivers: [otlp], exporters: [capture/h] } }
`);
  const hc = svc.getExtension('health_check') as unknown as HealthCheck;
  const url = `http://127.0.0.1:${hc.port}/healthz`;
  const ok = await fetch(url);
  assert.equal(ok.status, 200);
  assert.equal((await ok.json() as { status: string }).status, 'Server available');
  assert.equal((await fetch(`http://127.0.0.1:${hc.port}/other`)).status, 404);
  await post(receiverPorts(svc).http, spans(4));
  const tel = await (await fetch(`http://127.0.0.1:${telPort}/metrics`)).text();
  assert.match(tel, /# TYPE sockeye_collector_receiver_accepted_items_total counter/);
  assert.match(tel, /sockeye_collector_receiver_accepted_items_total\{item="spans",receiver="otlp",transport="http"\} 4/);
  assert.match(tel, /sockeye_collector_process_resident_memory_bytes \d+/);
  svc.reportFatal('receiver otlp', new Error('listener died'));
  assert.equal((await fetch(url)).status, 503);
});

test('a component that cannot start stops the ones already started and reports which failed', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as net.AddressInfo).port;
  await assert.rejects(startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:${port}" } } } }
exporters: { prometheus: { endpoint: "127.0.0.1:0" } , capture/x: }
service: { pipelines: { traces: { receivers: [otlp], exporters: [capture/x] }, metrics: { receivers: [otlp], exporters: [prometheus] } } }
`), /failed to start receiver otlp: cannot listen: .*EADDRINUSE/);
  // The self-telemetry listener failing also unwinds: the receiver's port is free again afterwards.
  const recvPort = await freePort();
  const yaml = (tel: number) => `
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:${recvPort}" } } } }
exporters: { capture/y: }
service: { telemetry: { metrics: { address: "127.0.0.1:${tel}" } }, pipelines: { traces: { receivers: [otlp], exporters: [capture/y] } } }
`;
  await assert.rejects(startCollector(yaml(port)), /failed to serve self-telemetry on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  blocker.close();
  const ok = await collector(yaml(await freePort()));
  assert.equal(receiverPorts(ok).http, recvPort);
});
