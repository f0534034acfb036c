// The span queue in front of the OTLP exporter: bounded in spans AND in bytes (an estimate of each
// span's encoded size, so a burst of spans with long URLs cannot grow memory past the bound),
// batched by count or delay, one export request at a time, every span's fate counted:
// exported, or dropped as queue_full (either bound) or export_failed (error or timeout).
// It replaces the SDK's BatchSpanProcessor, which bounds only the span count and reports its
// drops only through a self-observability meter.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import type { TxSpan } from '../signals/tx-span.js';

export interface SpanExportOptions {
  exporter: SpanExporter;
  telemetry: TelemetryRegistry;
  maxQueueSize?: number;
  /** Bound on the estimated encoded bytes queued (default 32 MiB). */
  maxQueueBytes?: number;
  maxExportBatchSize?: number;
  scheduledDelayMillis?: number;
  exportTimeoutMillis?: number;
}

const EXPORTED = 'sockeye_spans_exported_total';
const DROPPED = 'sockeye_spans_dropped_total';
export const DEFAULT_SPAN_QUEUE_BYTES = 32 * 2 ** 20;

/** Encoded size of a span, estimated from its strings (ids, times and framing ≈ 80 bytes). */
export function estimateSpanBytes(span: TxSpan): number {
  let n = 80 + span.name.length;
  const a = span.attributes;
  for (const k in a) {
    const v = a[k];
    n += k.length + 6 + (typeof v === 'string' ? v.length : Array.isArray(v) ? 16 * v.length : 9);
  }
  return n;
}

export class SpanExport {
  private readonly queue: TxSpan[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;
  private timer?: NodeJS.Timeout;
  private sending?: Promise<void>;
  private readonly maxQueue: number;
  private readonly maxBytes: number;
  private readonly batchSize: number;
  private readonly delayMs: number;
  private readonly timeoutMs: number;
  private readonly exported: { value: number };

  constructor(private readonly opts: SpanExportOptions) {
    this.maxQueue = opts.maxQueueSize ?? 16384;
    this.maxBytes = opts.maxQueueBytes ?? DEFAULT_SPAN_QUEUE_BYTES;
    this.batchSize = Math.min(opts.maxExportBatchSize ?? 2048, this.maxQueue);
    this.delayMs = opts.scheduledDelayMillis ?? 1000;
    this.timeoutMs = opts.exportTimeoutMillis ?? 10_000;
    this.exported = opts.telemetry.counter(EXPORTED, 'Spans accepted by the OTLP endpoint.');
    opts.telemetry.register('sockeye_span_queue_bytes', 'Estimated encoded bytes of the spans waiting for export.', 'gauge', () => [{ value: this.bytes }]);
  }

  /** Queued bytes (estimated) and spans, for tests and the bench. */
  get queued(): { spans: number; bytes: number } {
    return { spans: this.queue.length, bytes: this.bytes };
  }

  submit(span: TxSpan): void {
    const size = estimateSpanBytes(span);
    if (this.queue.length >= this.maxQueue || this.bytes + size > this.maxBytes) {
      this.drop('queue_full', 1);
      return;
    }
    this.queue.push(span);
    this.sizes.push(size);
    this.bytes += size;
    // Half the byte bound queued: send now, so a burst of large spans is not held to a full batch.
    if (this.queue.length >= this.batchSize || this.bytes >= this.maxBytes / 2) this.pump(true);
    else this.timer ??= setTimeout(() => { this.timer = undefined; this.pump(true); }, this.delayMs);
  }

  private drop(reason: 'queue_full' | 'export_failed', count: number): void {
    this.opts.telemetry.add(DROPPED, 'Spans lost, by reason.', count, { reason });
  }

  /** Sends full batches (and a partial one when `partial`), one request at a time. */
  private pump(partial = false): void {
    if (this.sending) return;
    if (this.queue.length === 0 || (!partial && this.queue.length < this.batchSize)) return;
    const n = Math.min(this.batchSize, this.queue.length);
    // splice trims the front in place (V8 left-trims large arrays); slice copied the rest each batch.
    const batch = this.queue.splice(0, n);
    let freed = 0;
    for (const size of this.sizes.splice(0, n)) freed += size;
    this.bytes -= freed;
    if (this.timer && this.queue.length === 0) { clearTimeout(this.timer); this.timer = undefined; }
    this.sending = this.send(batch).then(() => {
      this.sending = undefined;
      if (this.queue.length >= this.batchSize) this.pump();
      else if (this.queue.length > 0) this.timer ??= setTimeout(() => { this.timer = undefined; this.pump(true); }, this.delayMs);
    });
  }

  private send(batch: TxSpan[]): Promise<void> {
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (ok) this.exported.value += batch.length;
        else this.drop('export_failed', batch.length);
        resolve();
      };
      const timer = setTimeout(() => finish(false), this.timeoutMs);
      try {
        this.opts.exporter.export(batch, (r: ExportResult) => finish(r.code === ExportResultCode.SUCCESS));
      } catch {
        finish(false);
      }
    });
  }

  /** Sends everything queued and waits for every request in flight, so counts are final after it. */
  async forceFlush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    while (this.sending || this.queue.length > 0) {
      if (this.sending) await this.sending;
      else this.pump(true);
    }
    await this.opts.exporter.forceFlush?.().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush().catch(() => undefined);
    await this.opts.exporter.shutdown().catch(() => undefined);
  }
}
