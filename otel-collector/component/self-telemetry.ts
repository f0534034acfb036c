// The collector's own counters: everything accepted, refused, dropped or unparsable is counted here,
// so no loss is silent. Rendered in Prometheus text format on service.telemetry.metrics.address and
// readable in-process (tests, benchmarks). The storage and the text are common/'s telemetry registry;
// this adds the collector's naming (sockeye_collector_ prefix, _total on counters).
import { TelemetryRegistry, type Labels } from '../../common/telemetry/telemetry-registry.js';

export interface Counter {
  add(n: number, labels?: Labels): void;
  /** A handle for one fixed label set: no label formatting per call (for hot paths). */
  bind(labels?: Labels): BoundCounter;
  /** Current value for exactly these labels (0 when never touched). */
  value(labels?: Labels): number;
}

export interface BoundCounter { add(n: number): void }

/** Labels in key order, so one label set renders one way whatever order a caller wrote it in. */
function sorted(labels: Labels | undefined): Labels {
  const out: Labels = {};
  if (labels) for (const k of Object.keys(labels).sort()) out[k] = labels[k]!;
  return out;
}

export class SelfTelemetry {
  readonly registry = new TelemetryRegistry();

  /** Gets or creates the counter `name` (prefixed sockeye_collector_, suffixed _total in output). */
  counter(name: string, help: string): Counter {
    const full = `sockeye_collector_${name}_total`;
    const r = this.registry;
    return {
      add: (n, labels) => r.add(full, help, n, sorted(labels)),
      bind: (labels) => {
        const s = r.counter(full, help, sorted(labels));
        return { add: (n: number) => { s.value += n; } };
      },
      value: (labels) => r.get(full, labels ?? {}),
    };
  }

  /** A gauge read at render time (queue sizes, memory). */
  gauge(name: string, help: string, read: () => number, labels?: Labels): void {
    this.registry.gauge(`sockeye_collector_${name}`, help, read, sorted(labels));
  }

  /** Sum of a counter over all label sets matching `filter`. */
  total(name: string, filter: Labels = {}): number {
    return this.registry.sum(`sockeye_collector_${name}_total`, filter);
  }

  renderPrometheus(): string {
    return this.registry.render();
  }
}
