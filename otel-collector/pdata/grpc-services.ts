// gRPC service definitions for the OTLP export services, wired to our codec so @grpc/grpc-js can
// serve and call them without a .proto loader.
import type { ServiceDefinition, MethodDefinition } from '@grpc/grpc-js';
import { otlpTypes } from './otlp-schema.js';
import type { Traces, Metrics, Logs } from './types.js';

type ProtoType = typeof otlpTypes.traceRequest;

function method<Req, Res>(path: string, req: ProtoType, res: ProtoType): MethodDefinition<Req, Res> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: Req) => Buffer.from(req.encode(v as never).finish()),
    requestDeserialize: (b: Buffer) => req.decode(b) as unknown as Req,
    responseSerialize: (v: Res) => Buffer.from(res.encode(v as never).finish()),
    responseDeserialize: (b: Buffer) => res.decode(b) as unknown as Res,
  };
}

/** Export response as the gRPC layer sees it: partial success counts under the signal's key. */
export interface GrpcExportResponse {
  partialSuccess?: { rejectedSpans?: number; rejectedDataPoints?: number; rejectedLogRecords?: number; errorMessage?: string } | null;
}

export const traceServiceDefinition = {
  Export: method<Traces, GrpcExportResponse>('/opentelemetry.proto.collector.trace.v1.TraceService/Export', otlpTypes.traceRequest, otlpTypes.traceResponse),
} satisfies ServiceDefinition;
export const metricsServiceDefinition = {
  Export: method<Metrics, GrpcExportResponse>('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', otlpTypes.metricsRequest, otlpTypes.metricsResponse),
} satisfies ServiceDefinition;
export const logsServiceDefinition = {
  Export: method<Logs, GrpcExportResponse>('/opentelemetry.proto.collector.logs.v1.LogsService/Export', otlpTypes.logsRequest, otlpTypes.logsResponse),
} satisfies ServiceDefinition;
