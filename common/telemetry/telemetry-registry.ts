// The one registry of sockeye's own counters and gauges (the agent's sockeye_* series and the
// collector's sockeye_collector_* series): every event, loss, drop and export outcome is counted here
// and shown on /metrics. Counters are plain numbers bumped on the hot path; gauges and
// externally-owned counters are read through callbacks at scrape time.
import { PrometheusText, labelPairs, type Labels } from './prometheus-text.js';

export type { Labels };
type MetricType = 'counter' | 'gauge';
interface Series { labels: Labels; value: number; read?: () => number }
interface Family { name: string; help: string; type: MetricType; series: Map<string, Series> }
type Reader = () => Array<{ labels?: Labels; value: number }>;

export class TelemetryRegistry {
  private readonly families = new Map<string, Family>();
  private readonly readers = new Map<string, { help: string; type: MetricType; read: Reader }>();

  /** A counter series handle for hot paths: bump `.value` directly, no label hashing per call. */
  counter(name: string, help: string, labels: Labels = {}): { value: number } {
    return this.series(name, help, 'counter', labels);
  }

  /** Adds to a counter (created on first use). */
  add(name: string, help: string, by = 1, labels: Labels = {}): void {
    this.series(name, help, 'counter', labels).value += by;
  }

  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.series(name, help, 'gauge', labels).value = value;
  }

  /** A gauge series whose value is read at scrape time (queue sizes, memory). */
  gauge(name: string, help: string, read: () => number, labels: Labels = {}): void {
    this.series(name, help, 'gauge', labels).read = read;
  }

  /** Registers values owned elsewhere (capture, engine, exporters), read at scrape time. */
  register(name: string, help: string, type: MetricType, read: Reader): void {
    this.readers.set(name, { help, type, read });
  }

  /** Current value of exactly this series (tests, live view). */
  get(name: string, labels: Labels = {}): number {
    const f = this.families.get(name);
    if (f) {
      const s = f.series.get(labelKey(labels));
      return s ? valueOf(s) : 0;
    }
    const r = this.readers.get(name);
    if (!r) return 0;
    const want = labelKey(labels);
    return safeRead(r.read).filter((s) => labelKey(s.labels ?? {}) === want).reduce((a, s) => a + s.value, 0);
  }

  /** Sum over every series of `name` whose labels include all of `filter`. */
  sum(name: string, filter: Labels = {}): number {
    const f = this.families.get(name);
    if (!f) return 0;
    let total = 0;
    for (const s of f.series.values()) {
      if (Object.entries(filter).every(([k, v]) => s.labels[k] === v)) total += valueOf(s);
    }
    return total;
  }

  /** Prometheus text exposition of everything, families in name order. */
  render(): string {
    const w = new PrometheusText();
    const names = [...new Set([...this.families.keys(), ...this.readers.keys()])].sort();
    for (const name of names) {
      const f = this.families.get(name);
      if (f) {
        w.family(name, f.help, f.type);
        for (const s of f.series.values()) w.sample(name, labelPairs(s.labels), valueOf(s));
        continue;
      }
      const r = this.readers.get(name)!;
      w.family(name, r.help, r.type);
      for (const s of safeRead(r.read)) w.sample(name, labelPairs(s.labels ?? {}), s.value);
    }
    return w.text();
  }

  private series(name: string, help: string, type: MetricType, labels: Labels): Series {
    let f = this.families.get(name);
    if (!f) {
      f = { name, help, type, series: new Map() };
      this.families.set(name, f);
    }
    const k = labelKey(labels);
    let s = f.series.get(k);
    if (!s) {
      s = { labels, value: 0 };
      f.series.set(k, s);
    }
    return s;
  }
}

function valueOf(s: Series): number {
  if (!s.read) return s.value;
  try { return s.read(); } catch { return NaN; }
}

function safeRead(read: Reader): Array<{ labels?: Labels; value: number }> {
  try { return read(); } catch { return []; }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}
