// The agent's own counters: every event, loss, drop and export outcome is counted here and shown
// on /metrics (as sockeye_* series). Counters are plain numbers bumped on the hot path; gauges
// and externally-owned counters are read through callbacks at scrape time.
export type Labels = Record<string, string>;

interface Series { labels: Labels; value: number }
interface Family { name: string; help: string; type: 'counter' | 'gauge'; series: Map<string, Series> }
type Reader = () => Array<{ labels?: Labels; value: number }>;

export class SelfTelemetry {
  private readonly families = new Map<string, Family>();
  private readonly readers = new Map<string, { help: string; type: 'counter' | 'gauge'; read: Reader }>();

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

  /** Registers values owned elsewhere (capture, engine, exporters), read at scrape time. */
  register(name: string, help: string, type: 'counter' | 'gauge', read: Reader): void {
    this.readers.set(name, { help, type, read });
  }

  /** Current value of a series (tests, live view). */
  get(name: string, labels: Labels = {}): number {
    const f = this.families.get(name);
    if (f) return f.series.get(labelKey(labels))?.value ?? 0;
    const r = this.readers.get(name);
    if (!r) return 0;
    const want = labelKey(labels);
    return safeRead(r.read).filter((s) => labelKey(s.labels ?? {}) === want).reduce((a, s) => a + s.value, 0);
  }

  /** Prometheus text exposition of everything. */
  render(): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const s of f.series.values()) out.push(`${f.name}${labelText(s.labels)} ${s.value}`);
    }
    for (const [name, r] of this.readers) {
      out.push(`# HELP ${name} ${r.help}`, `# TYPE ${name} ${r.type}`);
      for (const s of safeRead(r.read)) out.push(`${name}${labelText(s.labels ?? {})} ${s.value}`);
    }
    return out.join('\n') + '\n';
  }

  private series(name: string, help: string, type: 'counter' | 'gauge', labels: Labels): Series {
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

function safeRead(read: Reader): Array<{ labels?: Labels; value: number }> {
  try { return read(); } catch { return []; }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
}
