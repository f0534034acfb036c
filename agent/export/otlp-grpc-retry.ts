// Retries for OTLP/gRPC export. The SDK retries http/protobuf exports in its transport, but its gRPC
// transport reports every error as final, so a collector restart or a memory_limiter refusal would
// drop whole span batches. This wraps the gRPC transport (otlp-grpc-channel.ts) and retries what the OTLP spec calls
// retryable — UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, CANCELLED, DATA_LOSS, and
// RESOURCE_EXHAUSTED only when the server sent RetryInfo — with exponential backoff and jitter,
// within the export timeout. (The SDK's own retrying transport is not exported for reuse.)
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
// The retry rule itself is common/'s, shared with the collector's otlp_grpc exporter.
import { grpcRetry } from '../../common/otlp/grpc-retry.js';

export interface RetryPolicy {
  /** Attempts after the first. */
  maxRetries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
  /** ± this fraction of the backoff, at random. */
  jitter: number;
}
export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 5, initialBackoffMs: 500, maxBackoffMs: 5000, multiplier: 1.5, jitter: 0.2 };

export interface RetryCounters { retries: number; gaveUp: number }

interface GrpcError { code?: unknown; metadata?: { get(key: string): unknown[] } }

/** Whether a failed attempt is retried, and after how long when the server said (RetryInfo). */
export function retryDecision(err: unknown): { retry: boolean; afterMs?: number } {
  const e = err as GrpcError | undefined;
  if (typeof e?.code !== 'number') return { retry: false };
  const r = grpcRetry(e.code, e.metadata?.get('grpc-status-details-bin')[0]);
  return r.retryable ? { retry: true, afterMs: r.retryDelayMs } : { retry: false };
}

export class RetryingGrpcTransport implements IExporterTransport {
  readonly counters: RetryCounters = { retries: 0, gaveUp: 0 };
  private stopped = false;
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();

  constructor(private readonly inner: IExporterTransport, private readonly policy: RetryPolicy = DEFAULT_RETRY,
    private readonly random: () => number = Math.random) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = Date.now() + timeoutMillis;
    let backoff = this.policy.initialBackoffMs;
    let result = await this.inner.send(data, timeoutMillis);
    for (let retry = 0; result.status === 'failure' && retry < this.policy.maxRetries; retry++) {
      const d = retryDecision(result.error);
      if (!d.retry) return result;
      const jittered = Math.min(backoff, this.policy.maxBackoffMs) * (1 + (this.random() * 2 - 1) * this.policy.jitter);
      const wait = d.afterMs || jittered; // RetryInfo without a delay (0): the usual backoff
      backoff *= this.policy.multiplier;
      const left = deadline - Date.now();
      if (this.stopped || wait >= left) break;
      await this.sleep(wait);
      if (this.stopped) break;
      this.counters.retries++;
      result = await this.inner.send(data, deadline - Date.now());
    }
    if (result.status === 'failure' && retryDecision(result.error).retry) this.counters.gaveUp++;
    return result;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = { timer: setTimeout(() => { this.sleeping.delete(entry); resolve(); }, ms), wake: resolve };
      this.sleeping.add(entry);
    });
  }

  shutdown(): void {
    // Waiting retries end now with their last failure (counted as export failures by the caller).
    this.stopped = true;
    for (const s of this.sleeping) { clearTimeout(s.timer); s.wake(); }
    this.sleeping.clear();
    this.inner.shutdown();
  }
}
