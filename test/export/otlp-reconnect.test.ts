// After a collector outage, span export resumes within 5 s of the collector's return (issue:
// hardening, slow recovery). The peer is the project's own collector (its OTLP receiver, gRPC and
// HTTP fronts) on fixed loopback ports: it is shut down while the agent's span pipeline keeps
// producing spans at a steady rate, then started again on the same ports. Every span the pipeline
// made is either received by a collector (and counted exported) or counted dropped, by reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { createSpanExporter, type OtlpProtocol } from '../../agent/export/otlp-exporters.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { countSpans, type Traces } from '../../otel-collector/pdata/index.js';
import type { Service } from '../../otel-collector/service/service.js';
import { captured, startCollector } from '../collector/helpers/collector-harness.js';
import { freePort } from '../helpers/free-port.js';
import { httpTx } from '../signals/helpers/make-transaction.js';

const OUTAGE_MS = Number(process.env.SOCKEYE_TEST_OUTAGE_MS ?? 12_000);
const RESUME_LIMIT_MS = 5000;
/** Spans per 50 ms tick: 400/s, so the outage overflows the (small) queue too. */
const SPANS_PER_TICK = 20;
const QUEUE = 2048;

interface Outcome { resumeMs: number; made: number; received: number; exported: number; queueFull: number; exportFailed: number }

/** Spans the collector received since it started (the harness keeps one list per start). */
const receivedSpans = () => (captured.get('capture') ?? []).reduce((n, c) => n + countSpans(c.data as Traces), 0);

async function collectorOn(grpcPort: number, httpPort: number): Promise<Service> {
  return startCollector(`
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:${grpcPort}" }, http: { endpoint: "127.0.0.1:${httpPort}" } } } }
exporters: { capture: {} }
service: { pipelines: { traces: { receivers: [otlp], exporters: [capture] } } }
`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function outageAndReturn(protocol: OtlpProtocol): Promise<Outcome> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const endpoint = protocol === 'grpc' ? `http://127.0.0.1:${grpcPort}` : `http://127.0.0.1:${httpPort}`;
  const telemetry = new TelemetryRegistry();
  // The agent's defaults (export timeout 10 s, batch delay 1 s), a small queue.
  const pipeline = new SignalPipeline({ telemetry, clock: fromEpoch(1_700_000_000, 0), linkWaitMs: 0, spanQueueSize: QUEUE,
    spanExporter: createSpanExporter({ protocol, endpoint, timeoutMs: 10_000 }, 'fast', { telemetry }) });
  let made = 0;
  const load = setInterval(() => {
    for (let i = 0; i < SPANS_PER_TICK; i++) pipeline.onTransaction(httpTx({ target: `/r/${made++ % 50}` }));
  }, 50);
  let first: Service | undefined;
  let second: Service | undefined;
  try {
    first = await collectorOn(grpcPort, httpPort);
    await sleep(2500);
    assert.ok(receivedSpans() > 0, 'spans reach the collector before the outage');
    await first.shutdown();
    const before = receivedSpans(); // the next start begins a new list
    await sleep(OUTAGE_MS);
    const restartedAt = Date.now();
    second = await collectorOn(grpcPort, httpPort);
    let firstAt: number | undefined;
    while (firstAt === undefined && Date.now() < restartedAt + 40_000) {
      await sleep(20);
      if (receivedSpans() > 0) firstAt = Date.now();
    }
    clearInterval(load);
    await pipeline.flush();
    const get = (name: string, labels?: Record<string, string>) => telemetry.get(name, labels) ?? 0;
    return {
      resumeMs: firstAt === undefined ? Infinity : firstAt - restartedAt, made,
      received: before + receivedSpans(),
      exported: get('sockeye_spans_exported_total'),
      queueFull: get('sockeye_spans_dropped_total', { reason: 'queue_full' }),
      exportFailed: get('sockeye_spans_dropped_total', { reason: 'export_failed' }),
    };
  } finally {
    clearInterval(load);
    await pipeline.shutdown();
    await Promise.all([first?.shutdown(), second?.shutdown()]);
  }
}

for (const protocol of ['grpc', 'http/protobuf'] as const) {
  test(`${protocol}: export resumes within ${RESUME_LIMIT_MS / 1000} s of the collector's return after a ${OUTAGE_MS / 1000} s outage; every span exported or counted dropped`, async () => {
    const r = await outageAndReturn(protocol);
    console.log(`# ${protocol}: ${JSON.stringify(r)}`);
    assert.ok(r.resumeMs <= RESUME_LIMIT_MS, `export resumed ${r.resumeMs} ms after the collector came back`);
    assert.equal(r.received, r.exported, 'what the collectors received is what the agent counted exported');
    assert.ok(r.queueFull + r.exportFailed > 0, 'the outage lost spans, and they were counted');
    assert.equal(r.exported + r.queueFull + r.exportFailed, r.made, 'made = exported + dropped');
  });
}
