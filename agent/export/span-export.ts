// Spans go to the SDK's BatchSpanProcessor (bounded queue, batches, export timeout) and from there
// to the OTLP exporter. The processor reports queue-full drops and export outcomes only through
// its self-observability meter; we hand it a tiny meter that turns those into our counters, so
// every lost span is counted.
import { createNoopMeter, type Attributes, type Counter, type Meter, type MeterProvider } from '@opentelemetry/api';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import type { TxSpan } from '../signals/tx-span.js';

export interface SpanExportOptions {
  exporter: SpanExporter;
  telemetry: TelemetryRegistry;
  maxQueueSize?: number;
  maxExportBatchSize?: number;
  scheduledDelayMillis?: number;
  exportTimeoutMillis?: number;
}

const EXPORTED = 'sockeye_spans_exported_total';
const DROPPED = 'sockeye_spans_dropped_total';

function outcomeMeterProvider(telemetry: TelemetryRegistry): MeterProvider {
  const noop = createNoopMeter();
  const counter: Counter = {
    add(count: number, attrs?: Attributes) {
      const err = attrs?.['error.type'];
      if (err === undefined) telemetry.add(EXPORTED, 'Spans accepted by the OTLP endpoint.', count);
      else telemetry.add(DROPPED, 'Spans lost, by reason.', count, { reason: err === 'queue_full' ? 'queue_full' : 'export_failed' });
    },
  };
  const meter: Meter = Object.assign(Object.create(noop) as Meter, {
    createCounter: (name: string) => (name === 'otel.sdk.processor.span.processed' ? counter : noop.createCounter(name)),
  });
  return { getMeter: () => meter };
}

export class SpanExport {
  private readonly bsp: BatchSpanProcessor;
  constructor(private readonly opts: SpanExportOptions) {
    this.bsp = new BatchSpanProcessor({
      exporter: opts.exporter,
      maxQueueSize: opts.maxQueueSize ?? 16384,
      maxExportBatchSize: opts.maxExportBatchSize ?? 2048,
      scheduledDelayMillis: opts.scheduledDelayMillis ?? 1000,
      exportTimeoutMillis: opts.exportTimeoutMillis ?? 10_000,
      selfObsMeterProvider: outcomeMeterProvider(opts.telemetry),
    });
  }

  submit(span: TxSpan): void {
    this.bsp.onEnd(span);
  }

  /** The processor's flush sends what is queued but does not wait for a batch its timer already
   *  sent; the exporter's flush waits for every request in flight, so counts are final after it. */
  forceFlush(): Promise<void> {
    return this.bsp.forceFlush().catch(() => undefined)
      .then(() => this.opts.exporter.forceFlush?.()).catch(() => undefined);
  }

  shutdown(): Promise<void> {
    return this.bsp.shutdown().catch(() => undefined);
  }
}
