// The one Prometheus text-format (0.0.4) writer: the agent's and the collector's own counters, the
// agent's RED histograms and the collector's prometheus exporter all write through it, so escaping
// and number formatting are defined once.
export type PrometheusType = 'counter' | 'gauge' | 'histogram' | 'summary';
export type Labels = Record<string, string>;

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** `k="v",…` in the labels' own key order (no braces); '' for none. */
export function labelPairs(labels: Labels): string {
  let out = '';
  for (const k in labels) out += `${out ? ',' : ''}${k}="${escapeLabel(labels[k]!)}"`;
  return out;
}

/** `{…}` around the non-empty rendered label lists, or '' when all are empty. */
function braces(...parts: string[]): string {
  const all = parts.filter(Boolean).join(',');
  return all ? `{${all}}` : '';
}

export class PrometheusText {
  private lines: string[] = [];
  private chars = 0;

  /** Characters written and not yet taken (a streamed render hands out a chunk past a size). */
  get pending(): number {
    return this.chars;
  }

  /** The text written since the last take, emptied: a render streams in pieces of bounded size. */
  take(): string {
    const out = this.text();
    this.lines = [];
    this.chars = 0;
    return out;
  }

  /** Starts a metric family; the HELP line is left out when there is no help text. */
  family(name: string, help: string, type: PrometheusType): void {
    if (help) this.line(`# HELP ${name} ${escapeHelp(help)}`);
    this.line(`# TYPE ${name} ${type}`);
  }

  /** One sample; `labels` rendered by labelPairs (or the same form), `extra` one more pair (le, quantile). */
  sample(name: string, labels: string, value: number, extra = ''): void {
    this.line(`${name}${braces(labels, extra)} ${formatValue(value)}`);
  }

  private line(l: string): void {
    this.lines.push(l);
    this.chars += l.length + 1;
  }

  /** A histogram series: `counts[i]` observations in bucket i (not cumulative), then _sum and _count. */
  histogram(name: string, labels: string, bounds: readonly number[], counts: ArrayLike<number>, sum: number, count: number): void {
    let cum = 0;
    for (let i = 0; i < bounds.length; i++) {
      cum += counts[i] ?? 0;
      this.sample(`${name}_bucket`, labels, cum, `le="${formatValue(bounds[i]!)}"`);
    }
    this.sample(`${name}_bucket`, labels, count, 'le="+Inf"');
    this.sample(`${name}_sum`, labels, sum);
    this.sample(`${name}_count`, labels, count);
  }

  /** A summary series: one sample per quantile, then _sum and _count. */
  summary(name: string, labels: string, quantiles: ReadonlyArray<{ q: number; v: number }>, sum: number, count: number): void {
    for (const q of quantiles) this.sample(name, labels, q.v, `quantile="${formatValue(q.q)}"`);
    this.sample(`${name}_sum`, labels, sum);
    this.sample(`${name}_count`, labels, count);
  }

  text(): string {
    return this.lines.length ? this.lines.join('\n') + '\n' : '';
  }
}
