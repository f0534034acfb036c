// Retries for OTLP/gRPC export. The SDK retries http/protobuf exports in its transport, but its gRPC
// transport reports every error as final, so a collector restart or a memory_limiter refusal would
// drop whole span batches. This wraps the SDK's gRPC transport and retries what the OTLP spec calls
// retryable — UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, CANCELLED, DATA_LOSS, and
// RESOURCE_EXHAUSTED only when the server sent RetryInfo — with exponential backoff and jitter,
// within the export timeout. (The SDK's own retrying transport is not exported for reuse.)
import protobuf from 'protobufjs';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';

const CANCELLED = 1, DEADLINE_EXCEEDED = 4, RESOURCE_EXHAUSTED = 8, ABORTED = 10, OUT_OF_RANGE = 11, UNAVAILABLE = 14, DATA_LOSS = 15;
const RETRYABLE = new Set([CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS]);

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

/** The delay a google.rpc.Status in grpc-status-details-bin asks for via RetryInfo, in ms; undefined when none. */
export function retryInfoDelayMs(details: Uint8Array): number | undefined {
  try {
    const status = new protobuf.Reader(details);
    while (status.pos < status.len) {
      const tag = status.uint32();
      if (tag >>> 3 !== 3 || (tag & 7) !== 2) { status.skipType(tag & 7); continue; }
      // details: google.protobuf.Any { type_url = 1; value = 2 }
      const any = new protobuf.Reader(status.bytes());
      let typeUrl = '';
      let value: Uint8Array | undefined;
      while (any.pos < any.len) {
        const t = any.uint32();
        if (t === 10) typeUrl = any.string();
        else if (t === 18) value = any.bytes();
        else any.skipType(t & 7);
      }
      if (!typeUrl.endsWith('google.rpc.RetryInfo') || !value) continue;
      // RetryInfo { google.protobuf.Duration retry_delay = 1 }; Duration { int64 seconds = 1; int32 nanos = 2 }
      const ri = new protobuf.Reader(value);
      let ms = 0;
      while (ri.pos < ri.len) {
        const t = ri.uint32();
        if (t !== 10) { ri.skipType(t & 7); continue; }
        const d = new protobuf.Reader(ri.bytes());
        while (d.pos < d.len) {
          const u = d.uint32();
          if (u === 8) ms += Number(d.int64()) * 1000;
          else if (u === 16) ms += Math.round(d.int32() / 1e6);
          else d.skipType(u & 7);
        }
      }
      return Math.max(0, ms);
    }
  } catch {
    // A malformed status is no RetryInfo: the error stays what its code says.
  }
  return undefined;
}

/** How a failed attempt should go on: undefined = final; a number = retry (after this many ms if the server said). */
export function retryDecision(err: unknown): { retry: boolean; afterMs?: number } {
  const e = err as GrpcError | undefined;
  const code = typeof e?.code === 'number' ? e.code : undefined;
  if (code === undefined) return { retry: false };
  if (RETRYABLE.has(code)) return { retry: true, afterMs: serverDelay(e) };
  if (code === RESOURCE_EXHAUSTED) {
    const after = serverDelay(e);
    return after === undefined ? { retry: false } : { retry: true, afterMs: after };
  }
  return { retry: false };
}

function serverDelay(e: GrpcError | undefined): number | undefined {
  const raw = e?.metadata?.get('grpc-status-details-bin')[0];
  return raw instanceof Uint8Array ? retryInfoDelayMs(raw) : undefined;
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
