// exporter `prometheus`: keeps the latest value of every series it is sent and serves them in the
// Prometheus text format (0.0.4) on GET /metrics for a Prometheus server to scrape. Cumulative data
// replaces, delta data accumulates; series not updated within metric_expiration are dropped.
// Resource attributes become job, instance, a few promoted labels and target_info
// (prometheus-resource-labels.ts), or all labels with resource_to_telemetry_conversion.
import http from 'node:http';
import { object, endpoint, str, bool, record, list, duration, type Infer } from '../../../common/config/config-schema.js';
import type { ExporterFactory } from '../../component/factory.js';
import type { Metrics, KeyValue } from '../../pdata/types.js';
import { AggregationTemporality } from '../../pdata/types.js';
import { int64ToNumber } from '../../pdata/int64.js';
import { splitHostPort } from '../../component/host-port.js';
import { prometheusName, sanitizeLabelName } from './prometheus-naming.js';
import { DEFAULT_PROMOTED, promotable, resourceLabels, addLabel, anyText, renderLabels, type ResourceLabels } from './prometheus-resource-labels.js';
import { PrometheusText, escapeLabel } from '../../../common/telemetry/prometheus-text.js';

const config = object({
  endpoint: endpoint('127.0.0.1:8889'),
  namespace: str(''),
  const_labels: record(str()),
  resource_to_telemetry_conversion: object({ enabled: bool(false) }),
  promote_resource_attributes: list(promotable, DEFAULT_PROMOTED),
  add_metric_suffixes: bool(true),
  metric_expiration: duration(5 * 60_000, { min: 1000 }),
});
export type PrometheusConfig = Infer<typeof config>;

type Kind = 'counter' | 'gauge' | 'histogram' | 'summary';
interface Family { name: string; help: string; kind: Kind; series: Map<string, Sample> }
interface Sample {
  labels: string; updated: number;
  value?: number;
  buckets?: number[]; bounds?: number[]; sum?: number; count?: number;
  quantiles?: { q: number; v: number }[];
}

export interface PrometheusExporter { port?: number; render(): string }

export const prometheusExporterFactory: ExporterFactory<PrometheusConfig> = {
  type: 'prometheus',
  kind: 'exporter',
  signals: ['metrics'],
  config,
  create(s, cfg) {
    const families = new Map<string, Family>();
    const unsupported = s.telemetry.counter('exporter_unsupported_points', 'Data points an exporter cannot represent (e.g. exponential histograms in Prometheus text).');
    const nameOpts = { namespace: cfg.namespace, suffixes: cfg.add_metric_suffixes };
    let server: http.Server | undefined;

    const promote = new Set(cfg.promote_resource_attributes);
    const labelsOf = (attrs: KeyValue[], res: ResourceLabels): string => {
      const m = new Map(res.promoted);
      for (const kv of attrs) addLabel(m, kv.key, anyText(kv.value));
      for (const [k, v] of res.identity) m.set(k, v);
      for (const [k, v] of Object.entries(cfg.const_labels)) m.set(sanitizeLabelName(k), v);
      return renderLabels(m, escapeLabel);
    };
    // One target_info series per (job, instance), refreshed with every batch of that resource.
    const targetInfo = (res: ResourceLabels, now: number) => {
      if (!res.info) return;
      const labels = renderLabels(res.info, escapeLabel);
      family('target_info', 'Target metadata', 'gauge').series.set(labels, { labels, updated: now, value: 1 });
    };
    const family = (name: string, help: string, kind: Kind): Family => {
      let f = families.get(name);
      if (!f || f.kind !== kind) families.set(name, (f = { name, help, kind, series: new Map() }));
      return f;
    };

    const consumeMetrics = async (d: Metrics) => {
      const now = Date.now();
      for (const rm of d.resourceMetrics) {
        const res = resourceLabels(rm.resource?.attributes ?? [], { promote, all: cfg.resource_to_telemetry_conversion.enabled });
        targetInfo(res, now);
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) {
            const help = m.description ?? '';
            if (m.sum || m.gauge) {
              const counter = !!m.sum?.isMonotonic;
              const delta = m.sum?.aggregationTemporality === AggregationTemporality.DELTA;
              const f = family(prometheusName(m.name, m.unit, counter ? 'counter' : 'gauge', nameOpts), help, counter ? 'counter' : 'gauge');
              for (const p of (m.sum ?? m.gauge)!.dataPoints) {
                const labels = labelsOf(p.attributes, res);
                const v = p.asDouble ?? int64ToNumber(p.asInt);
                const prev = f.series.get(labels);
                f.series.set(labels, { labels, updated: now, value: delta && prev ? prev.value! + v : v });
              }
            } else if (m.histogram) {
              const delta = m.histogram.aggregationTemporality === AggregationTemporality.DELTA;
              const f = family(prometheusName(m.name, m.unit, 'histogram', nameOpts), help, 'histogram');
              for (const p of m.histogram.dataPoints) {
                const labels = labelsOf(p.attributes, res);
                const buckets = p.bucketCounts.map((c) => int64ToNumber(c));
                const prev = f.series.get(labels);
                const add = delta && prev && prev.bounds?.join() === p.explicitBounds.join();
                f.series.set(labels, {
                  labels, updated: now, bounds: [...p.explicitBounds],
                  buckets: add ? buckets.map((c, i) => c + (prev.buckets![i] ?? 0)) : buckets,
                  sum: (p.sum ?? 0) + (add ? prev.sum! : 0), count: int64ToNumber(p.count) + (add ? prev.count! : 0),
                });
              }
            } else if (m.summary) {
              const f = family(prometheusName(m.name, m.unit, 'summary', nameOpts), help, 'summary');
              for (const p of m.summary.dataPoints) {
                const labels = labelsOf(p.attributes, res);
                f.series.set(labels, {
                  labels, updated: now, sum: p.sum, count: int64ToNumber(p.count),
                  quantiles: p.quantileValues.map((q) => ({ q: q.quantile, v: q.value })),
                });
              }
            } else if (m.exponentialHistogram) {
              unsupported.add(m.exponentialHistogram.dataPoints.length, { exporter: s.id.toString(), type: 'exponential_histogram' });
            }
          }
        }
      }
    };

    const render = (): string => {
      const now = Date.now();
      const w = new PrometheusText();
      for (const f of [...families.values()].sort((a, b) => a.name.localeCompare(b.name))) {
        for (const [k, smp] of f.series) if (now - smp.updated > cfg.metric_expiration) f.series.delete(k);
        if (f.series.size === 0) continue;
        w.family(f.name, f.help, f.kind);
        for (const smp of f.series.values()) {
          if (f.kind === 'counter' || f.kind === 'gauge') w.sample(f.name, smp.labels, smp.value!);
          else if (f.kind === 'histogram') w.histogram(f.name, smp.labels, smp.bounds!, smp.buckets!, smp.sum!, smp.count!);
          else w.summary(f.name, smp.labels, smp.quantiles!, smp.sum!, smp.count!);
        }
      }
      return w.text();
    };

    const self = {
      consumeMetrics,
      render,
      port: undefined as number | undefined,
      async start() {
        const { host, port } = splitHostPort(cfg.endpoint);
        server = http.createServer((req, res) => {
          if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
            res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; metrics are at /metrics\n');
            return;
          }
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render());
        });
        await new Promise<void>((res, rej) => { server!.once('error', rej); server!.listen(port, host, () => res()); });
        self.port = (server.address() as { port: number }).port;
        s.logger.info(`Prometheus metrics on http://${host}:${self.port}/metrics`);
      },
      async shutdown() {
        if (!server) return;
        await new Promise<void>((res) => { server!.close(() => res()); server!.closeAllConnections(); });
        server = undefined;
      },
    };
    return self;
  },
};
