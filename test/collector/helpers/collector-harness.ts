// Test harness for the collector: start a real Service from YAML (builtin components plus a
// `capture` exporter that records what reaches the end of a pipeline, so a test can assert on it),
// and make real spans with the OpenTelemetry JS SDK.
import { SpanKind as ApiSpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { builtinFactories } from '../../../otel-collector/components.js';
import { Registry } from '../../../otel-collector/component/registry.js';
import { object, int } from '../../../common/config/config-schema.js';
import type { ExporterFactory, AnyFactory } from '../../../otel-collector/component/factory.js';
import type { Signal, SignalData } from '../../../otel-collector/component/consumer.js';
import { parseConfig } from '../../../otel-collector/service/collector-config.js';
import { Service } from '../../../otel-collector/service/service.js';
import { silentLogger } from '../../../otel-collector/component/logger.js';
import type { OtlpReceiver } from '../../../otel-collector/receivers/otlp/otlp-receiver.js';

export interface Captured { signal: Signal; data: SignalData[Signal] }
/** Everything each capture exporter received, by exporter id. */
export const captured = new Map<string, Captured[]>();

export const captureExporterFactory: ExporterFactory<{ delay_ms: number }> = {
  type: 'capture',
  kind: 'exporter',
  signals: ['traces', 'metrics', 'logs'],
  config: object({ delay_ms: int(0, { min: 0 }) }),
  create(s, cfg) {
    const list: Captured[] = [];
    captured.set(s.id.toString(), list);
    const rec = (signal: Signal) => async (data: SignalData[Signal]) => {
      if (cfg.delay_ms) await new Promise((r) => setTimeout(r, cfg.delay_ms));
      list.push({ signal, data });
    };
    return { consumeTraces: rec('traces'), consumeMetrics: rec('metrics'), consumeLogs: rec('logs'), async start() {}, async shutdown() {} };
  },
};

export function testRegistry(extra: AnyFactory[] = []): Registry {
  return new Registry([...builtinFactories, captureExporterFactory as AnyFactory, ...extra]);
}

export async function startCollector(yaml: string, extra: AnyFactory[] = []): Promise<Service> {
  const svc = new Service(parseConfig(yaml, testRegistry(extra)), { logger: silentLogger });
  await svc.start();
  return svc;
}

export function receiverPorts(svc: Service, id = 'otlp'): { grpc: number; http: number } {
  const r = svc.component('receiver', id) as OtlpReceiver;
  return { grpc: r.grpcPort ?? 0, http: r.httpPort ?? 0 };
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Real SDK spans: `n` client spans, each with a server child in the same trace (client → server). */
export async function sdkClientServerSpans(n: number, opts: { client?: string; server?: string; failEvery?: number } = {}): Promise<ReadableSpan[]> {
  const make = (service: string) => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    return { exporter, provider, tracer: provider.getTracer('collector-test') };
  };
  const c = make(opts.client ?? 'frontend');
  const s = make(opts.server ?? 'backend');
  for (let i = 0; i < n; i++) {
    const client = c.tracer.startSpan('GET', { kind: ApiSpanKind.CLIENT, attributes: { 'http.request.method': 'GET' } });
    const ctx = trace.setSpan(context.active(), client);
    const server = s.tracer.startSpan('GET /items', { kind: ApiSpanKind.SERVER }, ctx);
    if (opts.failEvery && i % opts.failEvery === 0) {
      server.setStatus({ code: SpanStatusCode.ERROR });
      client.setStatus({ code: SpanStatusCode.ERROR });
    }
    server.end();
    client.end();
  }
  await c.provider.forceFlush();
  await s.provider.forceFlush();
  const spans = [...c.exporter.getFinishedSpans(), ...s.exporter.getFinishedSpans()];
  await c.provider.shutdown();
  await s.provider.shutdown();
  return spans;
}
