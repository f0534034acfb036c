// OTLP exporters from the OTel JS SDK. The exporters themselves read the standard
// OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_}{ENDPOINT,HEADERS,COMPRESSION} variables; we pick the
// protocol (grpc by default, http/protobuf on request), the timeout, and pass an endpoint when the
// config file names one. The http/protobuf transport retries by itself; for gRPC span export we put
// our retrying wrapper (otlp-grpc-retry.ts) around a gRPC transport with our reconnect policy
// (otlp-grpc-channel.ts). Metrics are cumulative,
// so a failed metric export is made good by the next one and is not retried.
import { createRequire } from 'node:module';
import type * as TraceGrpc from '@opentelemetry/exporter-trace-otlp-grpc';
import type * as TraceProto from '@opentelemetry/exporter-trace-otlp-proto';
import type * as MetricGrpc from '@opentelemetry/exporter-metrics-otlp-grpc';
import type * as MetricProto from '@opentelemetry/exporter-metrics-otlp-proto';
import type * as GrpcBase from '@opentelemetry/otlp-grpc-exporter-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { OTLPExporterBase, createOtlpNetworkExportDelegate, type CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
// The exporter packages of the protocol the config does not use are never loaded (resident memory:
// each protocol's SDK packages are ~100 CommonJS modules; docs/PERFORMANCE.md, agent at rest).
const load = createRequire(import.meta.url);
const sdk = {
  traceGrpc: () => load('@opentelemetry/exporter-trace-otlp-grpc') as typeof TraceGrpc,
  traceProto: () => load('@opentelemetry/exporter-trace-otlp-proto') as typeof TraceProto,
  metricGrpc: () => load('@opentelemetry/exporter-metrics-otlp-grpc') as typeof MetricGrpc,
  metricProto: () => load('@opentelemetry/exporter-metrics-otlp-proto') as typeof MetricProto,
  grpcBase: () => load('@opentelemetry/otlp-grpc-exporter-base') as typeof GrpcBase,
};
import { TraceExporterMetricsHelper, type ISerializer, type IExportTraceServiceResponse } from '@opentelemetry/otlp-transformer';
import { FastTraceSerializer } from './otlp-span-encoder.js';
import { RetryingGrpcTransport } from './otlp-grpc-retry.js';
import { ReconnectingGrpcTransport } from './otlp-grpc-channel.js';
import type { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';

export type OtlpProtocol = 'grpc' | 'http/protobuf';

export interface OtlpTarget {
  protocol: OtlpProtocol;
  /** Base endpoint; undefined lets the exporter use OTEL_EXPORTER_OTLP_* or its default. */
  endpoint?: string;
  timeoutMs?: number;
  /** Undefined: OTEL_EXPORTER_OTLP_*COMPRESSION, else none. */
  compression?: 'gzip' | 'none';
}

/** http/protobuf wants the full per-signal URL; gRPC wants the base endpoint. */
function signalUrl(t: OtlpTarget, path: string): string | undefined {
  if (!t.endpoint) return undefined;
  if (t.protocol === 'grpc') return t.endpoint;
  return t.endpoint.replace(/\/+$/, '') + path;
}

/** 'fast': our wire-format span encoder inside the SDK's export delegates; 'sdk': the SDK exporters as shipped. */
export type SpanEncoding = 'fast' | 'sdk';

/** The SDK's span exporter with our serializer swapped in (same transport, retry, env handling). */
class FastSpanExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {}

/** Where export outcomes the span queue cannot see are counted (retries, partial success). */
export interface ExportTelemetry { telemetry?: TelemetryRegistry }

/** A serializer that counts spans the endpoint rejected in a partial_success (the SDK only logs them). */
function countingSerializer(inner: ISerializer<ReadableSpan[], IExportTraceServiceResponse>, telemetry?: TelemetryRegistry): ISerializer<ReadableSpan[], IExportTraceServiceResponse> {
  if (!telemetry) return inner;
  return {
    serializeRequest: (spans) => inner.serializeRequest(spans),
    deserializeResponse: (data) => {
      const r = inner.deserializeResponse(data);
      const rejected = Number(r.partialSuccess?.rejectedSpans ?? 0);
      if (rejected > 0) telemetry.add('sockeye_spans_rejected_total', 'Spans the OTLP endpoint rejected in a partial_success response (counted as exported too).', rejected);
      return r;
    },
  };
}

export function createSpanExporter(t: OtlpTarget, encoding: SpanEncoding = 'fast', hooks: ExportTelemetry = {}): SpanExporter {
  const url = signalUrl(t, '/v1/traces');
  const base = { ...(url ? { url } : {}), ...(t.timeoutMs ? { timeoutMillis: t.timeoutMs } : {}),
    ...(t.compression ? { compression: t.compression as CompressionAlgorithm } : {}) };
  if (encoding === 'sdk') return t.protocol === 'grpc' ? new (sdk.traceGrpc().OTLPTraceExporter)(base) : new (sdk.traceProto().OTLPTraceExporter)(base);
  const serializer = countingSerializer(FastTraceSerializer, hooks.telemetry);
  if (t.protocol === 'grpc') {
    const { convertLegacyOtlpGrpcOptions, createOtlpGrpcExporterMetrics } = sdk.grpcBase();
    const o = convertLegacyOtlpGrpcOptions(base, 'TRACES');
    const transport = new RetryingGrpcTransport(new ReconnectingGrpcTransport({
      address: o.url, compression: o.compression, credentials: o.credentials, metadata: o.metadata, userAgent: o.userAgent,
      grpcName: 'TraceExportService', grpcPath: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    }));
    if (hooks.telemetry) {
      hooks.telemetry.register('sockeye_otlp_export_retries_total', 'OTLP/gRPC span export attempts repeated after a retryable error.', 'counter', () => [{ value: transport.counters.retries }]);
      hooks.telemetry.register('sockeye_otlp_export_retries_exhausted_total', 'OTLP/gRPC span exports still failing with a retryable error when retries or the timeout ran out.', 'counter', () => [{ value: transport.counters.gaveUp }]);
    }
    return new FastSpanExporter(createOtlpNetworkExportDelegate(o, serializer,
      createOtlpGrpcExporterMetrics('otlp_grpc_span_exporter', TraceExporterMetricsHelper, o.url, undefined), transport));
  }
  return new FastSpanExporter(createOtlpHttpExportDelegate(convertLegacyHttpOptions(base, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    serializer, 'otlp_http_span_exporter', TraceExporterMetricsHelper, undefined));
}

export function createMetricExporter(t: OtlpTarget): PushMetricExporter {
  const url = signalUrl(t, '/v1/metrics');
  const base = { ...(url ? { url } : {}), ...(t.timeoutMs ? { timeoutMillis: t.timeoutMs } : {}) };
  return t.protocol === 'grpc' ? new (sdk.metricGrpc().OTLPMetricExporter)(base) : new (sdk.metricProto().OTLPMetricExporter)(base);
}
