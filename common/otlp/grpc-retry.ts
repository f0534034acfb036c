// OTLP's rule for a failed gRPC export, shared by the collector's otlp_grpc exporter and the agent's
// span exporter: UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, CANCELLED and DATA_LOSS are
// retried; RESOURCE_EXHAUSTED only when the server sent RetryInfo (whose delay comes back, 0 when
// it named none).
import { decodeRpcStatus } from './rpc-status.js';

const RETRYABLE_GRPC_CODES = new Set([1, 4, 10, 11, 14, 15]);
const RESOURCE_EXHAUSTED = 8;

/** `detailsBin`: the error's grpc-status-details-bin metadata value, if any. */
export function grpcRetry(code: number, detailsBin: unknown): { retryable: boolean; retryDelayMs?: number } {
  let retryDelayMs: number | undefined;
  if (detailsBin instanceof Uint8Array) {
    const st = decodeRpcStatus(detailsBin);
    if (st.ok) retryDelayMs = st.value.retryDelayMs;
  }
  const retryable = RETRYABLE_GRPC_CODES.has(code) || (code === RESOURCE_EXHAUSTED && retryDelayMs !== undefined);
  return retryDelayMs === undefined ? { retryable } : { retryable, retryDelayMs };
}
