// The span queue is bounded in bytes as well as in spans: spans with long URLs fill the byte bound
// long before the span bound, and every span past it is counted as dropped (queue_full); what was
// queued is all exported once the endpoint answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { SpanExport, estimateSpanBytes } from '../../agent/export/span-export.js';
import { TxSpan } from '../../agent/signals/tx-span.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';

/** Holds every export until released (an endpoint that is slow to answer). */
class HeldExporter implements SpanExporter {
  spans = 0;
  private held: (() => void)[] = [];
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.held.push(() => { this.spans += spans.length; done({ code: ExportResultCode.SUCCESS }); });
  }
  release(): void { for (const h of this.held.splice(0)) h(); }
  async shutdown(): Promise<void> {}
}

test('spans beyond the byte bound are dropped and counted; the rest are exported', async () => {
  const telemetry = new TelemetryRegistry();
  const exporter = new HeldExporter();
  const exp = new SpanExport({ exporter, telemetry, maxQueueSize: 10_000, maxQueueBytes: 100_000, maxExportBatchSize: 50, scheduledDelayMillis: 10 });
  const resource = resourceFromAttributes({ 'service.name': 'queue-bytes-test' });
  const url = 'http://a.example/' + 'x'.repeat(2000);
  const make = () => new TxSpan('GET', SpanKind.CLIENT, [1, 0], [1, 1000], 1000, { 'url.full': url }, resource);
  const per = estimateSpanBytes(make());
  assert.ok(per > 2000, `estimate ${per} counts the URL`);
  for (let i = 0; i < 1000; i++) exp.submit(make());
  const dropped = telemetry.get('sockeye_spans_dropped_total', { reason: 'queue_full' });
  // At half the byte bound a batch left for the (held) exporter; the queue then holds what fits in 100 kB.
  assert.equal(dropped, 1000 - Math.ceil(50_000 / per) - Math.floor(100_000 / per));
  assert.ok(exp.queued.bytes <= 100_000);
  const timer = setInterval(() => exporter.release(), 5);
  await exp.forceFlush();
  clearInterval(timer);
  assert.equal(telemetry.get('sockeye_spans_exported_total'), 1000 - dropped);
  assert.equal(exporter.spans + dropped, 1000, 'every span exported or counted as dropped');
  await exp.shutdown();
});
