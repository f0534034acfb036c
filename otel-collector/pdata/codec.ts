// Binary OTLP codec: protobuf bytes <-> decoded pdata for the three export requests and responses.
// Decoding never throws out: it returns a typed error the receiver can turn into a 400/INVALID_ARGUMENT.
import { otlpTypes } from './otlp-schema.js';
import { int64ToNumber } from './int64.js';
import { fastEncodeTraceRequest } from './fast-trace-encoder.js';
import type { Traces, Metrics, Logs, ExportPartialSuccess } from './types.js';

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

function decodeWith<T>(type: typeof otlpTypes.traceRequest, bytes: Uint8Array): DecodeResult<T> {
  try {
    return { ok: true, value: type.decode(bytes) as unknown as T };
  } catch (e) {
    return { ok: false, error: `malformed ${type.name}: ${(e as Error).message}` };
  }
}

export function decodeTraceRequest(bytes: Uint8Array): DecodeResult<Traces> {
  return decodeWith<Traces>(otlpTypes.traceRequest, bytes);
}
export function decodeMetricsRequest(bytes: Uint8Array): DecodeResult<Metrics> {
  return decodeWith<Metrics>(otlpTypes.metricsRequest, bytes);
}
export function decodeLogsRequest(bytes: Uint8Array): DecodeResult<Logs> {
  return decodeWith<Logs>(otlpTypes.logsRequest, bytes);
}

/** Trace requests use the hand-written encoder (see fast-trace-encoder.ts for why). */
export function encodeTraceRequest(t: Traces): Uint8Array {
  return fastEncodeTraceRequest(t);
}
/** The same through protobufjs: kept for the benchmark's side-by-side and for tests. */
export function encodeTraceRequestWithLibrary(t: Traces): Uint8Array {
  return otlpTypes.traceRequest.encode(t as never).finish();
}
export function encodeMetricsRequest(m: Metrics): Uint8Array {
  return otlpTypes.metricsRequest.encode(m as never).finish();
}
export function encodeLogsRequest(l: Logs): Uint8Array {
  return otlpTypes.logsRequest.encode(l as never).finish();
}

// Responses: an empty partial_success means full success, so it is omitted when nothing was rejected.
function partial(rejectedKey: string, p?: ExportPartialSuccess): object {
  if (!p || (p.rejected === 0 && p.errorMessage === '')) return {};
  return { partialSuccess: { [rejectedKey]: p.rejected, errorMessage: p.errorMessage } };
}
export function encodeTraceResponse(p?: ExportPartialSuccess): Uint8Array {
  return otlpTypes.traceResponse.encode(partial('rejectedSpans', p)).finish();
}
export function encodeMetricsResponse(p?: ExportPartialSuccess): Uint8Array {
  return otlpTypes.metricsResponse.encode(partial('rejectedDataPoints', p)).finish();
}
export function encodeLogsResponse(p?: ExportPartialSuccess): Uint8Array {
  return otlpTypes.logsResponse.encode(partial('rejectedLogRecords', p)).finish();
}

type Signal = 'traces' | 'metrics' | 'logs';
const responseTypes = { traces: otlpTypes.traceResponse, metrics: otlpTypes.metricsResponse, logs: otlpTypes.logsResponse };
const rejectedKeys = { traces: 'rejectedSpans', metrics: 'rejectedDataPoints', logs: 'rejectedLogRecords' };

/** Reads an export response; undefined partial success means everything was accepted. */
export function decodeExportResponse(signal: Signal, bytes: Uint8Array): DecodeResult<ExportPartialSuccess | undefined> {
  try {
    const msg = responseTypes[signal].decode(bytes) as unknown as { partialSuccess?: Record<string, unknown> | null };
    const ps = msg.partialSuccess;
    if (!ps) return { ok: true, value: undefined };
    return {
      ok: true,
      value: { rejected: int64ToNumber(ps[rejectedKeys[signal]] as never), errorMessage: String(ps.errorMessage ?? '') },
    };
  } catch (e) {
    return { ok: false, error: `malformed export response: ${(e as Error).message}` };
  }
}

/** google.rpc.Status, the body of an OTLP/HTTP error response (optionally with RetryInfo). */
export function encodeRpcStatus(code: number, message: string, retryDelayMs?: number): Uint8Array {
  const details = [];
  if (retryDelayMs !== undefined) {
    const value = otlpTypes.retryInfo.encode({
      retryDelay: { seconds: Math.floor(retryDelayMs / 1000), nanos: (retryDelayMs % 1000) * 1e6 },
    }).finish();
    details.push({ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value });
  }
  return otlpTypes.rpcStatus.encode({ code, message, details }).finish();
}

/** retryDelayMs is set when a google.rpc.RetryInfo detail is present (0 when it names no delay). */
export interface RpcStatus { code: number; message: string; retryDelayMs?: number }
export function decodeRpcStatus(bytes: Uint8Array): DecodeResult<RpcStatus> {
  try {
    const s = otlpTypes.rpcStatus.decode(bytes) as unknown as {
      code: number; message: string; details: { typeUrl: string; value: Uint8Array }[];
    };
    const out: RpcStatus = { code: s.code, message: s.message };
    for (const d of s.details) {
      if (d.typeUrl.endsWith('google.rpc.RetryInfo')) {
        const ri = otlpTypes.retryInfo.decode(d.value) as unknown as { retryDelay?: { seconds: never; nanos: number } };
        // A RetryInfo without retry_delay still means "retry" (RESOURCE_EXHAUSTED is retried only with
        // one): 0 = no delay asked for, so the exporter's own backoff applies.
        out.retryDelayMs = ri.retryDelay ? int64ToNumber(ri.retryDelay.seconds) * 1000 + Math.round(ri.retryDelay.nanos / 1e6) : 0;
      }
    }
    return { ok: true, value: out };
  } catch (e) {
    return { ok: false, error: `malformed google.rpc.Status: ${(e as Error).message}` };
  }
}

/**
 * OTLP's rule for a failed gRPC export, shared by the collector's otlp_grpc exporter and the agent's
 * span exporter: UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, CANCELLED and DATA_LOSS are
 * retried; RESOURCE_EXHAUSTED only when the server sent RetryInfo (whose delay comes back, 0 when
 * it named none). `detailsBin`: the error's grpc-status-details-bin metadata value, if any.
 */
const RETRYABLE_GRPC_CODES = new Set([1, 4, 10, 11, 14, 15]);
const RESOURCE_EXHAUSTED = 8;
export function grpcRetry(code: number, detailsBin: unknown): { retryable: boolean; retryDelayMs?: number } {
  let retryDelayMs: number | undefined;
  if (detailsBin instanceof Uint8Array) {
    const st = decodeRpcStatus(detailsBin);
    if (st.ok) retryDelayMs = st.value.retryDelayMs;
  }
  const retryable = RETRYABLE_GRPC_CODES.has(code) || (code === RESOURCE_EXHAUSTED && retryDelayMs !== undefined);
  return retryDelayMs === undefined ? { retryable } : { retryable, retryDelayMs };
}

/** Counts for self-telemetry and partial success. */
export function countSpans(t: Traces): number {
  let n = 0;
  for (const rs of t.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}
export function countDataPoints(m: Metrics): number {
  let n = 0;
  for (const rm of m.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const metric of sm.metrics) {
        const d = metric.gauge ?? metric.sum ?? metric.histogram ?? metric.exponentialHistogram ?? metric.summary;
        n += d ? d.dataPoints.length : 0;
      }
    }
  }
  return n;
}
export function countLogRecords(l: Logs): number {
  let n = 0;
  for (const rl of l.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}
