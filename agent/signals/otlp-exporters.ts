// OTLP exporters from the OTel JS SDK. The exporters themselves read the standard
// OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_}{ENDPOINT,HEADERS,TIMEOUT,COMPRESSION} variables and retry
// the retryable codes with exponential backoff; we only pick the protocol (grpc by default,
// http/protobuf on request) and pass an endpoint when the config file names one.
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { convertLegacyOtlpGrpcOptions, createOtlpGrpcExportDelegate } from '@opentelemetry/otlp-grpc-exporter-base';
import { TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { FastTraceSerializer } from './otlp-span-encoder.js';

export type OtlpProtocol = 'grpc' | 'http/protobuf';

export interface OtlpTarget {
  protocol: OtlpProtocol;
  /** Base endpoint; undefined lets the exporter use OTEL_EXPORTER_OTLP_* or its default. */
  endpoint?: string;
  timeoutMs?: number;
}

/** The protocol a signal uses: per-signal env var, then the general one, then grpc. */
export function protocolFromEnv(signal: 'traces' | 'metrics', env: NodeJS.ProcessEnv = process.env): OtlpProtocol | string {
  const v = env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'grpc';
  return v.trim();
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

export function createSpanExporter(t: OtlpTarget, encoding: SpanEncoding = 'fast'): SpanExporter {
  const url = signalUrl(t, '/v1/traces');
  const base = { ...(url ? { url } : {}), ...(t.timeoutMs ? { timeoutMillis: t.timeoutMs } : {}) };
  if (encoding === 'sdk') return t.protocol === 'grpc' ? new GrpcTraceExporter(base) : new ProtoTraceExporter(base);
  if (t.protocol === 'grpc') {
    return new FastSpanExporter(createOtlpGrpcExportDelegate(convertLegacyOtlpGrpcOptions(base, 'TRACES'), FastTraceSerializer,
      'otlp_grpc_span_exporter', TraceExporterMetricsHelper, undefined, 'TraceExportService', '/opentelemetry.proto.collector.trace.v1.TraceService/Export'));
  }
  return new FastSpanExporter(createOtlpHttpExportDelegate(convertLegacyHttpOptions(base, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    FastTraceSerializer, 'otlp_http_span_exporter', TraceExporterMetricsHelper, undefined));
}

export function createMetricExporter(t: OtlpTarget): PushMetricExporter {
  const url = signalUrl(t, '/v1/metrics');
  const base = { ...(url ? { url } : {}), ...(t.timeoutMs ? { timeoutMillis: t.timeoutMs } : {}) };
  return t.protocol === 'grpc' ? new GrpcMetricExporter(base) : new ProtoMetricExporter(base);
}
