// A second chance for the NAT lookup of a client span, taken just before the span is exported.
// The conntrack event of a connection is queued in the kernel before its response even returns,
// but it reaches the agent on a different channel (a netlink socket, or the relay's pipe) than the
// capture ring buffer, so a span can be built a few milliseconds before its NAT entry is read.
// Spans wait in the export batch anyway (export.span_delay_ms), so looking again there costs no
// latency: one more map lookup, for misses only.
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { ExportResult } from '@opentelemetry/core';
import type { SocketTuple } from '../capture/capture-events.js';
import { addNatPeer, type NatLookup } from '../conntrack/nat-span-attributes.js';

export class NatLateLookup {
  /** Client spans whose first lookup missed; weak so a dropped span takes its entry with it. */
  private readonly pending = new WeakMap<ReadableSpan, SocketTuple>();
  /** Spans resolved by the second lookup (the first had raced the conntrack event). */
  lateHits = 0;
  /** Spans still without NAT at export: not translated (or their conntrack event was lost). */
  misses = 0;

  constructor(private readonly nat: NatLookup) {}

  defer(span: ReadableSpan, tuple: SocketTuple): void {
    this.pending.set(span, tuple);
  }

  resolve(spans: readonly ReadableSpan[]): void {
    for (const s of spans) {
      const t = this.pending.get(s);
      if (!t) continue;
      this.pending.delete(s);
      if (addNatPeer(this.nat, t, s.attributes as Record<string, unknown>)) this.lateHits++;
      else this.misses++;
    }
  }

  /** The exporter, with `resolve` run on each batch first. */
  wrap(exporter: SpanExporter): SpanExporter {
    return {
      export: (spans: ReadableSpan[], done: (r: ExportResult) => void) => { this.resolve(spans); exporter.export(spans, done); },
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    };
  }
}
