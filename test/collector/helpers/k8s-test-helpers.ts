// Shared by the Kubernetes tests: a collector fed by the API test server's fixture cluster, real
// spans sent by the OpenTelemetry JS SDK's OTLP/gRPC exporter, and readers for what came out.
import { readFileSync } from 'node:fs';
import { SpanKind as ApiSpanKind } from '@opentelemetry/api';
import { TracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { K8sApiTestServer } from './k8s-api-test-server.js';
import { captured } from './collector-harness.js';
import type { Traces, KeyValue } from '../../../otel-collector/pdata/types.js';

/** A collector config: OTLP/gRPC on a free port → k8s_attributes (on `api`) → the capture exporter. */
export function k8sCollectorYaml(api: K8sApiTestServer, signal: 'traces' | 'metrics', processorExtra = ''): string {
  return `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
processors:
  k8s_attributes:
    kubeconfig: ${api.writeKubeconfig()}${processorExtra ? `\n    ${processorExtra}` : ''}
exporters:
  capture: {}
service:
  pipelines:
    ${signal}: { receivers: [otlp], processors: [k8s_attributes], exporters: [capture] }
`;
}

export const FIXTURE = new URL('../../../../test/fixtures/k8s/cluster.json', import.meta.url).pathname;
type Obj = Parameters<K8sApiTestServer['add']>[1];

export async function fixtureApiServer(): Promise<K8sApiTestServer> {
  const api = new K8sApiTestServer();
  const cluster = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Obj[]>;
  for (const [path, objs] of Object.entries(cluster)) for (const o of objs) api.add(path, o);
  await api.start();
  return api;
}

export interface SpanSpec { name: string; kind: 'client' | 'server'; attributes: Record<string, string | number> }

/** Sends spans from one process (resource attributes) through the real OTLP/gRPC exporter. */
export async function sendSpans(grpcPort: number, resource: Record<string, string>, specs: SpanSpec[]): Promise<void> {
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${grpcPort}` });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'test-app', ...resource }),
    // Batched so hundreds of spans go in a few requests (one export per span hits the exporter's concurrency limit).
    spanProcessors: [new BatchSpanProcessor({ exporter, maxExportBatchSize: 512, maxQueueSize: 4096, scheduledDelayMillis: 20 })],
  });
  const tracer = provider.getTracer('k8s-test');
  for (const s of specs) {
    tracer.startSpan(s.name, { kind: s.kind === 'client' ? ApiSpanKind.CLIENT : ApiSpanKind.SERVER, attributes: s.attributes }).end();
  }
  await provider.forceFlush();
  await provider.shutdown();
}

export interface OutSpan { name: string; resource: Record<string, string>; attrs: Record<string, string> }

const flat = (kvs: readonly KeyValue[] | undefined) =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, String(kv.value?.stringValue ?? kv.value?.intValue ?? '')]));

export function capturedSpans(id: string): OutSpan[] {
  return (captured.get(id) ?? []).flatMap((c) => (c.data as Traces).resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) => ss.spans.map((sp) => ({ name: sp.name, resource: flat(rs.resource?.attributes), attrs: flat(sp.attributes) })))));
}

/** Only the keys under a prefix, prefix removed. */
export function under(attrs: Record<string, string>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(attrs).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}
