// The agent's network-health part: kernel TCP events → TcpEventMetrics → OTLP and /metrics.
// Started beside the syscall capture; a kernel that cannot run it costs one log line, not the agent.
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { NetworkHealthCapture, type NetworkHealthCaptureOptions } from './network-health-capture.js';
import { ResetReasons } from './reset-reasons.js';
import { TcpEventMetrics, type IdentityLookup } from './tcp-event-metrics.js';
import { TcpMetrics } from './tcp-metrics.js';
import type { TcpEvent } from './tcp-event-decoder.js';
import { ConnectionResets } from './connection-resets.js';

export interface NetworkHealthOptions {
  telemetry: TelemetryRegistry;
  identities: IdentityLookup;
  exporter?: PushMetricExporter;
  exportIntervalMs?: number;
  maxServices?: number;
  maxPeersPerService?: number;
  capture?: NetworkHealthCaptureOptions;
  /** Sees every decoded event (tests, span hooks). */
  onEvent?: (e: TcpEvent) => void;
}

export class NetworkHealth {
  private constructor(readonly capture: NetworkHealthCapture, readonly metrics: TcpMetrics, readonly reasons: ResetReasons,
    /** Resets per connection, for spans (agent/signals/connection-reset.ts). */
    readonly resets: ConnectionResets) {}

  /** Loads and attaches the programs; throws with the kernel's reason when they cannot run. */
  static start(o: NetworkHealthOptions): NetworkHealth {
    const capture = NetworkHealthCapture.open(o.capture);
    const metrics = new TcpMetrics({ telemetry: o.telemetry, exporter: o.exporter, exportIntervalMs: o.exportIntervalMs, maxServices: o.maxServices });
    const reasons = ResetReasons.fromKernel();
    const events = new TcpEventMetrics(metrics, o.identities, reasons, o.telemetry, o.maxPeersPerService);
    const resets = new ConnectionResets(reasons, () => capture.pollNow());
    const t = o.telemetry;
    let failed = 0;
    capture.onEvents((batch) => {
      for (const e of batch) {
        try {
          events.onEvent(e);
          resets.record(e);
          o.onEvent?.(e);
        } catch {
          failed++;
        }
      }
    });
    t.register('sockeye_tcp_capture', 'Network-health capture counters (records, decodeErrors, lost, failed), by counter.', 'counter',
      () => [...Object.entries(capture.counters()), ['failed', failed] as const].map(([k, v]) => ({ labels: { counter: k }, value: Number(v) })));
    t.register('sockeye_tcp_resets_for_spans_evicted_total', 'Connection resets forgotten before a span could ask for them (more than 4096 reset connections within 30 s).', 'counter', () => [{ value: resets.evicted }]);
    t.register('sockeye_tcp_metric_services', 'Services with TCP network-health metrics.', 'gauge', () => [{ value: metrics.serviceCount }]);
    return new NetworkHealth(capture, metrics, reasons, resets);
  }

  /** What this kernel does not give (one entry per missing part), for the start-up log. */
  get missing(): string[] { return this.capture.missing; }

  renderPrometheus(): string { return this.metrics.renderPrometheus(); }

  async stop(): Promise<void> {
    this.capture.pollNow();
    this.capture.close();
    await this.metrics.shutdown();
  }
}
