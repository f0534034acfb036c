// The service-graph metrics themselves: per label set (client, server, connection_type, dimensions)
// a request counter, a failed counter and two latency histograms, all cumulative since start.
import type { Metrics, Metric, KeyValue, HistogramDataPoint, NumberDataPoint, LongLike } from '../../pdata/types.js';
import { AggregationTemporality } from '../../pdata/types.js';
import { nowUnixNano } from '../../pdata/int64.js';

interface Series {
  attrs: KeyValue[];
  total: number;
  failed: number;
  server: Histo;
  client: Histo;
}
interface Histo { counts: number[]; sum: number; count: number }

const histo = (n: number): Histo => ({ counts: new Array<number>(n + 1).fill(0), sum: 0, count: 0 });

export class SeriesStore {
  private readonly series = new Map<string, Series>();
  private readonly start: LongLike = nowUnixNano();
  constructor(private readonly buckets: number[], private readonly maxSeries: number) {}

  get size(): number { return this.series.size; }

  /** Records one request on an edge (`key` identifies the label set; `labels` is built only for a new one); false when the series limit keeps a new label set out. */
  record(key: string, labels: () => string[], labelNames: string[], failed: boolean, clientSeconds?: number, serverSeconds?: number): boolean {
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= this.maxSeries) return false;
      const values = labels();
      const attrs = labelNames.map((k, i) => ({ key: k, value: { stringValue: values[i]! } }));
      s = { attrs, total: 0, failed: 0, server: histo(this.buckets.length), client: histo(this.buckets.length) };
      this.series.set(key, s);
    }
    s.total++;
    if (failed) s.failed++;
    if (clientSeconds !== undefined) this.observe(s.client, clientSeconds);
    if (serverSeconds !== undefined) this.observe(s.server, serverSeconds);
    return true;
  }

  private observe(h: Histo, v: number): void {
    const b = this.buckets;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    h.counts[i]!++;
    h.sum += v;
    h.count++;
  }

  /** All series as cumulative OTLP metrics (empty when nothing was recorded yet). */
  toMetrics(): Metrics {
    if (this.series.size === 0) return { resourceMetrics: [] };
    const now = nowUnixNano();
    const total: NumberDataPoint[] = [];
    const failed: NumberDataPoint[] = [];
    const server: HistogramDataPoint[] = [];
    const client: HistogramDataPoint[] = [];
    const hp = (attrs: KeyValue[], h: Histo): HistogramDataPoint => ({
      attributes: attrs, startTimeUnixNano: this.start, timeUnixNano: now, count: h.count, sum: h.sum,
      bucketCounts: [...h.counts], explicitBounds: this.buckets,
    });
    for (const s of this.series.values()) {
      total.push({ attributes: s.attrs, startTimeUnixNano: this.start, timeUnixNano: now, asInt: s.total });
      failed.push({ attributes: s.attrs, startTimeUnixNano: this.start, timeUnixNano: now, asInt: s.failed });
      if (s.server.count) server.push(hp(s.attrs, s.server));
      if (s.client.count) client.push(hp(s.attrs, s.client));
    }
    const sum = (name: string, description: string, dataPoints: NumberDataPoint[]): Metric => ({
      name, description, unit: '1', sum: { dataPoints, aggregationTemporality: AggregationTemporality.CUMULATIVE, isMonotonic: true },
    });
    const hist = (name: string, description: string, dataPoints: HistogramDataPoint[]): Metric => ({
      name, description, unit: 's', histogram: { dataPoints, aggregationTemporality: AggregationTemporality.CUMULATIVE },
    });
    const metrics = [
      sum('traces_service_graph_request_total', 'Requests between two services (client → server).', total),
      sum('traces_service_graph_request_failed_total', 'Failed requests between two services.', failed),
    ];
    if (server.length) metrics.push(hist('traces_service_graph_request_server_seconds', 'Request duration as the server saw it.', server));
    if (client.length) metrics.push(hist('traces_service_graph_request_client_seconds', 'Request duration as the client saw it.', client));
    return {
      resourceMetrics: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'sockeye-collector' } }] },
        scopeMetrics: [{ scope: { name: 'sockeye/connector/servicegraph' }, metrics }],
      }],
    };
  }
}
