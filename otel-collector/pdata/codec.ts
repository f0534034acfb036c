// Binary OTLP codec: protobuf bytes <-> decoded pdata for the three export requests and responses.
// Decoding never throws out: it returns a typed error the receiver can turn into a 400/INVALID_ARGUMENT.
import { otlpTypes } from './otlp-schema.js';
import { int64ToNumber } from './int64.js';
import { fastEncodeTraceRequest } from './fast-trace-encoder.js';
import type { Traces, Metrics, Logs, ExportPartialSuccess } from './types.js';

import type { DecodeResult } from '../../common/otlp/rpc-status.js';

export type { DecodeResult, RpcStatus } from '../../common/otlp/rpc-status.js';
// google.rpc.Status is read by common/ (the agent reads it too); the retry rule lives beside it.
export { decodeRpcStatus } from '../../common/otlp/rpc-status.js';
export { grpcRetry } from '../../common/otlp/grpc-retry.js';

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
