// Pulls out of a PromQL expression what a rename could break: the metric names, the label matchers
// per metric, the labels aggregations group by and the labels label_replace reads. It is a scanner
// for the expressions our dashboards use (selectors, functions, by (...), binary operators), not a
// full PromQL parser: anything it cannot classify shows up as a metric name and fails the check.
export interface Selector { metric: string; matchers: { label: string; op: string; value: string }[] }
export interface ExprNames { selectors: Selector[]; groupBy: string[]; readLabels: string[] }

/** The last four arguments of label_replace(v, "dst", "replacement", "src", "regex"). */
export const LABEL_REPLACE_TAIL = /,\s*"([A-Za-z_]\w*)"\s*,\s*"[^"]*"\s*,\s*"([A-Za-z_]\w*)"\s*,\s*"[^"]*"\s*\)/g;
// Group 1 is the label written, group 2 the label read.

const KEYWORDS = new Set(['by', 'without', 'or', 'and', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool']);

export function promqlNames(expr: string): ExprNames {
  const selectors: Selector[] = [];
  const groupBy: string[] = [];
  const readLabels: string[] = [];
  // label_replace(v, "dst", "repl", "src", "regex"): src is read from the series.
  for (const m of expr.matchAll(LABEL_REPLACE_TAIL)) readLabels.push(m[2]!);
  // label_values(metric{...}, label) in template variables.
  for (const m of expr.matchAll(/label_values\(\s*([^,]+),\s*([A-Za-z_]\w*)\s*\)/g)) { readLabels.push(m[2]!); expr = expr.replace(m[0], m[1]!); }
  for (const m of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) groupBy.push(...m[1]!.split(',').map((s) => s.trim()).filter(Boolean));
  let rest = expr.replace(/\b(?:by|without)\s*\([^)]*\)/g, ' ');
  for (const m of rest.matchAll(/([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}/g)) {
    const matchers = [...m[2]!.matchAll(/([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((x) => ({ label: x[1]!, op: x[2]!, value: x[3]! }));
    selectors.push({ metric: m[1] ?? '', matchers });
  }
  rest = rest.replace(/([A-Za-z_:][\w:]*)?\s*\{[^}]*\}/g, (_all, name: string | undefined) => (name ? ` ${name}{} ` : ' '))
    .replace(/"[^"]*"/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  for (const m of rest.matchAll(/(?<![\w$.])([A-Za-z_:][\w:]*)(\{\})?(\s*\()?/g)) {
    if (m[3] || KEYWORDS.has(m[1]!) || m[2]) continue; // a function call, a keyword, or a selector already taken
    selectors.push({ metric: m[1]!, matchers: [] });
  }
  return { selectors, groupBy, readLabels };
}

/** Every PromQL expression in a Grafana dashboard: panel targets and query variables. */
export function dashboardExprs(d: { panels?: unknown[]; templating?: { list?: unknown[] } }): string[] {
  const out: string[] = [];
  const walk = (p: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const t of p.targets ?? []) if (t.expr) out.push(t.expr);
    for (const c of p.panels ?? []) walk(c);
  };
  for (const p of d.panels ?? []) walk(p);
  for (const v of (d.templating?.list ?? []) as any[]) if (v.type === 'query') out.push(typeof v.query === 'string' ? v.query : v.query.query); // eslint-disable-line @typescript-eslint/no-explicit-any
  return out;
}

/** Prometheus text exposition → metric name → label names seen (and values, for checks on them). */
export function exposedSeries(text: string, into = new Map<string, Map<string, Set<string>>>()): Map<string, Map<string, Set<string>>> {
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+\S+/.exec(line);
    if (!m || line.startsWith('#')) continue;
    let labels = into.get(m[1]!);
    if (!labels) into.set(m[1]!, (labels = new Map()));
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      if (!labels.has(l[1]!)) labels.set(l[1]!, new Set());
      labels.get(l[1]!)!.add(l[2]!);
    }
  }
  return into;
}
