// The collector's own counters: everything accepted, refused, dropped or unparsable is counted here,
// so no loss is silent. Rendered in Prometheus text format on service.telemetry.metrics.address and
// readable in-process (tests, benchmarks).

type Labels = Record<string, string>;

export interface Counter {
  add(n: number, labels?: Labels): void;
  /** A handle for one fixed label set: no label formatting per call (for hot paths). */
  bind(labels?: Labels): BoundCounter;
  /** Current value for exactly these labels (0 when never touched). */
  value(labels?: Labels): number;
}

export interface BoundCounter { add(n: number): void }

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  return Object.keys(labels).sort().map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',');
}
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

class CounterImpl implements Counter {
  readonly series = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  add(n: number, labels?: Labels): void {
    const k = labelKey(labels);
    this.series.set(k, (this.series.get(k) ?? 0) + n);
  }
  value(labels?: Labels): number {
    return this.series.get(labelKey(labels)) ?? 0;
  }
  bind(labels?: Labels): BoundCounter {
    const k = labelKey(labels);
    if (!this.series.has(k)) this.series.set(k, 0);
    const series = this.series;
    return { add: (n: number) => { series.set(k, series.get(k)! + n); } };
  }
}

export class SelfTelemetry {
  private readonly counters = new Map<string, CounterImpl>();
  private readonly gauges = new Map<string, { help: string; series: Map<string, () => number> }>();

  /** Gets or creates the counter `name` (prefixed sockeye_collector_, suffixed _total in output). */
  counter(name: string, help: string): Counter {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = new CounterImpl(name, help)));
    return c;
  }

  /** A gauge read at render time (queue sizes, memory). */
  gauge(name: string, help: string, read: () => number, labels?: Labels): void {
    let g = this.gauges.get(name);
    if (!g) this.gauges.set(name, (g = { help, series: new Map() }));
    g.series.set(labelKey(labels), read);
  }

  /** Sum of a counter over all label sets matching `filter`. */
  total(name: string, filter: Labels = {}): number {
    const c = this.counters.get(name);
    if (!c) return 0;
    const want = Object.entries(filter).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    let sum = 0;
    for (const [k, v] of c.series) if (want.every((w) => k.split(',').includes(w))) sum += v;
    return sum;
  }

  renderPrometheus(): string {
    const lines: string[] = [];
    for (const c of [...this.counters.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const full = `sockeye_collector_${c.name}_total`;
      lines.push(`# HELP ${full} ${c.help}`, `# TYPE ${full} counter`);
      for (const [k, v] of c.series) lines.push(`${full}${k ? `{${k}}` : ''} ${v}`);
    }
    for (const [name, g] of this.gauges) {
      const full = `sockeye_collector_${name}`;
      lines.push(`# HELP ${full} ${g.help}`, `# TYPE ${full} gauge`);
      for (const [k, read] of g.series) lines.push(`${full}${k ? `{${k}}` : ''} ${read()}`);
    }
    return lines.join('\n') + '\n';
  }
}
