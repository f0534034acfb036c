// Counting, merging and splitting pipeline data by item (span, data point, log record), for the
// batch processor and exporters' size limits. Splits keep each item's resource and scope.
import type { Signal, SignalData } from '../component/consumer.js';
import type { Traces, Metrics, Logs, Metric } from './types.js';
import { countSpans, countDataPoints, countLogRecords } from './codec.js';

export function countItems<S extends Signal>(signal: S, d: SignalData[S]): number {
  return signal === 'traces' ? countSpans(d as Traces) : signal === 'metrics' ? countDataPoints(d as Metrics) : countLogRecords(d as Logs);
}

export function emptyData<S extends Signal>(signal: S): SignalData[S] {
  return (signal === 'traces' ? { resourceSpans: [] } : signal === 'metrics' ? { resourceMetrics: [] } : { resourceLogs: [] }) as unknown as SignalData[S];
}

/** Appends b's resources to a (in place). Resources are not merged: exporters handle repeats fine. */
export function appendData<S extends Signal>(signal: S, a: SignalData[S], b: SignalData[S]): void {
  if (signal === 'traces') (a as Traces).resourceSpans.push(...(b as Traces).resourceSpans);
  else if (signal === 'metrics') (a as Metrics).resourceMetrics.push(...(b as Metrics).resourceMetrics);
  else (a as Logs).resourceLogs.push(...(b as Logs).resourceLogs);
}

function metricPoints(m: Metric): number {
  const d = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
  return d ? d.dataPoints.length : 0;
}

// Generic split over resource → scope → items. `items`/`withItems` adapt the three signal shapes.
function splitGeneric<R, Sc, I>(
  resources: R[], max: number,
  scopesOf: (r: R) => Sc[], withScopes: (r: R, s: Sc[]) => R,
  itemsOf: (s: Sc) => I[], withItems: (s: Sc, i: I[]) => Sc, weight: (i: I) => number,
): R[][] {
  const out: R[][] = [];
  let cur: R[] = [];
  let n = 0;
  const flush = () => { if (cur.length) out.push(cur); cur = []; n = 0; };
  for (const r of resources) {
    let scopes: Sc[] = [];
    for (const s of scopesOf(r)) {
      let items: I[] = [];
      for (const it of itemsOf(s)) {
        const w = weight(it);
        if (n > 0 && n + w > max) {
          if (items.length) scopes.push(withItems(s, items));
          if (scopes.length) cur.push(withScopes(r, scopes));
          flush();
          items = []; scopes = [];
        }
        items.push(it);
        n += w;
      }
      if (items.length) scopes.push(withItems(s, items));
    }
    if (scopes.length) cur.push(withScopes(r, scopes));
  }
  flush();
  return out;
}

/** Splits into chunks of at most `max` items (metrics: a metric's points stay together). */
export function splitData<S extends Signal>(signal: S, d: SignalData[S], max: number): SignalData[S][] {
  if (signal === 'traces') {
    return splitGeneric((d as Traces).resourceSpans, max, (r) => r.scopeSpans, (r, s) => ({ ...r, scopeSpans: s }),
      (s) => s.spans, (s, i) => ({ ...s, spans: i }), () => 1).map((rs) => ({ resourceSpans: rs }) as SignalData[S]);
  }
  if (signal === 'metrics') {
    return splitGeneric((d as Metrics).resourceMetrics, max, (r) => r.scopeMetrics, (r, s) => ({ ...r, scopeMetrics: s }),
      (s) => s.metrics, (s, i) => ({ ...s, metrics: i }), metricPoints).map((rm) => ({ resourceMetrics: rm }) as SignalData[S]);
  }
  return splitGeneric((d as Logs).resourceLogs, max, (r) => r.scopeLogs, (r, s) => ({ ...r, scopeLogs: s }),
    (s) => s.logRecords, (s, i) => ({ ...s, logRecords: i }), () => 1).map((rl) => ({ resourceLogs: rl }) as SignalData[S]);
}
