// RED histograms: our own aggregation, the SDK's OTLP metric exporter for the wire.
//
// Why not the SDK's MeterProvider: Histogram.record() hashes its attribute object on every call
// (sort + stringify) — 6–9% of the agent's CPU under load. Here a record costs a numeric hash of
// the attribute values, two Map lookups, an exact comparison with the series found, a bucket
// binary search and a few adds. bench/agent/red-metrics-aggregation.ts measures both side by side;
// test/signals/red-metrics-equivalence.test.ts requires identical data points from both.
//
// The output is the SDK's ResourceMetrics model, one per service.name and pod (metrics must carry
// the traced service's Resource; two pods of one service name on a node — or of two namespaces
// whose processes are both named `server` — must not share series, and k8s.pod.uid on the
// resource lets the collector's k8s_attributes add namespace, pod and owner), exported periodically through the PushMetricExporter we are given
// (the SDK's OTLP gRPC or http/protobuf exporter, which honours OTEL_EXPORTER_OTLP_* including the
// temporality preference), and rendered as Prometheus text for /metrics (cumulative).
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { hostname } from 'node:os';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality, DataPointType, InstrumentType,
  type HistogramMetricData, type PushMetricExporter, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

import { ExportResultCode, hrTime } from '@opentelemetry/core';
import type { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { PrometheusText, labelPairs } from '../../common/telemetry/prometheus-text.js';
import type { MetricRecord } from './span-builder.js';
import { DURATION_BUCKETS_S, METRIC, SCHEMA_URL, SCOPE_NAME, SCOPE_VERSION, type MetricName } from '../../common/semconv/semconv.js';

export const OVERFLOW_SERVICE = 'sockeye.overflow';

const DESCRIPTIONS: Record<MetricName, string> = {
  [METRIC.httpServer]: 'Duration of HTTP server requests.',
  [METRIC.httpClient]: 'Duration of HTTP client requests.',
  [METRIC.rpcServer]: 'Duration of RPC calls, server side.',
  [METRIC.rpcClient]: 'Duration of RPC calls, client side.',
  [METRIC.dnsLookup]: 'Duration of DNS lookups.',
};

const BOUNDS = DURATION_BUCKETS_S;

/** One histogram series: a metric name and an attribute set, cumulative since `start`. */
class Series {
  readonly counts = new Float64Array(BOUNDS.length + 1);
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  // What the last delta export took (only used when the exporter asks for delta temporality).
  exportedCounts?: Float64Array;
  exportedCount = 0;
  exportedSum = 0;
  intervalMin = Infinity;
  intervalMax = -Infinity;

  private readonly size: number;

  constructor(readonly name: MetricName, readonly attributes: Attributes, readonly start: HrTime) {
    this.size = Object.keys(attributes).length;
  }

  /** Exactly this attribute set (any key order)? */
  matches(a: Attributes): boolean {
    let n = 0;
    for (const k in a) {
      if (!sameValue(this.attributes[k], a[k])) return false;
      n++;
    }
    return n === this.size;
  }

  record(v: number): void {
    if (Number.isNaN(v)) return;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (v < this.intervalMin) this.intervalMin = v;
    if (v > this.intervalMax) this.intervalMax = v;
    // First boundary ≥ v (boundaries are inclusive upper bounds, as in the SDK).
    let lo = 0;
    let hi = BOUNDS.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (BOUNDS[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo]!++;
  }
}

interface ServiceSeries {
  resource: Resource;
  /** Metric name → attribute-set hash → the series with that hash (collisions resolved by comparing). */
  byName: Map<MetricName, Map<number, Series[]>>;
  all: Series[];
}

/**
 * An order-independent 32-bit hash of an attribute set (a sum of per-attribute FNV-1a hashes), so
 * one attribute set in two key orders finds one series. Equality is then checked exactly.
 */
function attributeHash(a: Attributes): number {
  let h = 0;
  for (const k in a) {
    const v = a[k];
    let x = Math.imul(0x811c9dc5 ^ k.length, 16777619) ^ k.charCodeAt(k.length - 1);
    if (typeof v === 'number') x = Math.imul(x ^ v, 16777619) ^ Math.imul(x ^ (v * 1024), 16777619);
    else {
      const str = typeof v === 'string' ? v : String(v);
      for (let i = 0; i < str.length; i++) x = Math.imul(x ^ str.charCodeAt(i), 16777619);
    }
    h = (h + x) | 0;
  }
  return h;
}

const sameValue = (x: unknown, y: unknown) => x === y || (typeof x === 'object' && x !== null && String(x) === String(y));

export interface RedMetricsOptions {
  telemetry: TelemetryRegistry;
  exporter?: PushMetricExporter;
  exportIntervalMs?: number;
  maxServices?: number;
}

export class RedMetrics {
  /** service.name → its series without a pod, and per pod uid (nested: no key string built per record). */
  private readonly services = new Map<string, { plain?: ServiceSeries; pods?: Map<string, ServiceSeries> }>();
  /** Every ServiceSeries, in creation order (export, collection, the cap). */
  private readonly sets: ServiceSeries[] = [];
  private readonly host = hostname();
  private timer?: NodeJS.Timeout;
  private exporting: Promise<void> = Promise.resolve();
  private lastExport: HrTime = hrTime();
  private closed = false;
  private readonly temporality: AggregationTemporality;

  constructor(private readonly opts: RedMetricsOptions) {
    this.temporality = opts.exporter?.selectAggregationTemporality?.(InstrumentType.HISTOGRAM) ?? AggregationTemporality.CUMULATIVE;
    if (opts.exporter) {
      this.timer = setInterval(() => void this.exportNow(), opts.exportIntervalMs ?? 60_000);
      this.timer.unref();
    }
  }

  /** `podUid`: the Kubernetes pod the traced process runs in, when its cgroup shows one. */
  record(serviceName: string, rec: MetricRecord, podUid?: string): void {
    const s = this.service(serviceName, podUid);
    let byHash = s.byName.get(rec.name);
    if (!byHash) s.byName.set(rec.name, (byHash = new Map()));
    const a = rec.attributes;
    const h = attributeHash(a);
    let list = byHash.get(h);
    if (!list) byHash.set(h, (list = []));
    for (const series of list) {
      if (series.matches(a)) {
        series.record(rec.seconds);
        return;
      }
    }
    const series = new Series(rec.name, { ...a }, hrTime());
    list.push(series);
    s.all.push(series);
    series.record(rec.seconds);
  }

  get serviceCount(): number {
    return this.sets.length;
  }

  private service(serviceName: string, podUid?: string): ServiceSeries {
    let group = this.services.get(serviceName);
    let s = podUid ? group?.pods?.get(podUid) : group?.plain;
    if (s) return s;
    const cap = this.opts.maxServices ?? 256;
    if (this.sets.length >= cap && serviceName !== OVERFLOW_SERVICE) {
      this.opts.telemetry.add('sockeye_metric_services_overflow_total', `Records from services (per pod) beyond the per-agent cap, folded into service ${OVERFLOW_SERVICE}.`);
      return this.service(OVERFLOW_SERVICE);
    }
    const attrs: Attributes = { 'service.name': serviceName, 'host.name': this.host, 'telemetry.sdk.name': 'sockeye' };
    if (podUid) attrs['k8s.pod.uid'] = podUid;
    s = { resource: resourceFromAttributes(attrs, { schemaUrl: SCHEMA_URL }), byName: new Map(), all: [] };
    this.sets.push(s);
    if (!group) this.services.set(serviceName, (group = {}));
    if (podUid) (group.pods ??= new Map()).set(podUid, s);
    else group.plain = s;
    return s;
  }

  /** Every service's cumulative histograms, in the SDK's model. */
  async collect(): Promise<ResourceMetrics[]> {
    const now = hrTime();
    return this.sets.map((s) => this.resourceMetrics(s, now, AggregationTemporality.CUMULATIVE));
  }

  private resourceMetrics(s: ServiceSeries, now: HrTime, temporality: AggregationTemporality): ResourceMetrics {
    const byName = new Map<MetricName, HistogramMetricData>();
    const delta = temporality === AggregationTemporality.DELTA;
    for (const series of s.all) {
      let point;
      if (delta) {
        const count = series.count - series.exportedCount;
        if (count === 0) continue;
        const prev = series.exportedCounts;
        point = {
          startTime: prev ? this.lastExport : series.start, endTime: now, attributes: series.attributes,
          value: { buckets: { boundaries: BOUNDS, counts: Array.from(series.counts, (c, i) => c - (prev?.[i] ?? 0)) },
            sum: series.sum - series.exportedSum, count, min: series.intervalMin, max: series.intervalMax },
        };
      } else {
        if (series.count === 0) continue;
        point = {
          startTime: series.start, endTime: now, attributes: series.attributes,
          value: { buckets: { boundaries: BOUNDS, counts: Array.from(series.counts) }, sum: series.sum, count: series.count, min: series.min, max: series.max },
        };
      }
      let m = byName.get(series.name);
      if (!m) {
        byName.set(series.name, (m = {
          descriptor: { name: series.name, description: DESCRIPTIONS[series.name], unit: 's', valueType: ValueType.DOUBLE },
          aggregationTemporality: temporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: [],
        }));
      }
      m.dataPoints.push(point);
    }
    return {
      resource: s.resource,
      scopeMetrics: [{ scope: { name: SCOPE_NAME, version: SCOPE_VERSION, schemaUrl: SCHEMA_URL }, metrics: [...byName.values()] }],
    };
  }

  /** Exports every service with data now (one export call per service: one Resource each). Serialised. */
  exportNow(): Promise<void> {
    const exporter = this.opts.exporter;
    if (!exporter) return Promise.resolve();
    this.exporting = this.exporting.then(async () => {
      const now = hrTime();
      const delta = this.temporality === AggregationTemporality.DELTA;
      const batches = this.sets.map((s) => this.resourceMetrics(s, now, this.temporality)).filter((rm) => countPoints(rm) > 0);
      if (delta) {
        for (const s of this.sets) {
          for (const series of s.all) {
            series.exportedCounts = Float64Array.from(series.counts);
            series.exportedCount = series.count;
            series.exportedSum = series.sum;
            series.intervalMin = Infinity;
            series.intervalMax = -Infinity;
          }
        }
        this.lastExport = now;
      }
      await Promise.all(batches.map((rm) => this.exportOne(exporter, rm)));
    });
    return this.exporting;
  }

  private exportOne(exporter: PushMetricExporter, rm: ResourceMetrics): Promise<void> {
    const points = countPoints(rm);
    const t = this.opts.telemetry;
    return new Promise((resolve) => {
      try {
        exporter.export(rm, (r) => {
          if (r.code === ExportResultCode.SUCCESS) t.add('sockeye_metric_points_exported_total', 'Metric data points accepted by the OTLP endpoint.', points);
          else t.add('sockeye_metric_points_dropped_total', 'Metric data points lost, by reason.', points, { reason: 'export_failed' });
          resolve();
        });
      } catch {
        t.add('sockeye_metric_points_dropped_total', 'Metric data points lost, by reason.', points, { reason: 'export_failed' });
        resolve();
      }
    });
  }

  /** Prometheus text for /metrics, whole (tests; /metrics streams prometheusChunks). */
  async renderPrometheus(): Promise<string> {
    let out = '';
    for (const c of this.prometheusChunks()) out += c;
    return out;
  }

  /**
   * Prometheus text in pieces of about `chunkChars` characters, written straight from the series
   * (no intermediate model): the memory a scrape costs is one piece, whatever the series count.
   * A piece ends between series, so each series is read whole at one instant.
   */
  *prometheusChunks(chunkChars = 64 * 1024): Generator<string> {
    const w = new PrometheusText();
    const names = new Set<MetricName>();
    for (const s of this.sets) for (const name of s.byName.keys()) names.add(name);
    for (const name of names) {
      const prom = promName(name, 's');
      let headed = false;
      for (let i = 0; i < this.sets.length; i++) {
        const s = this.sets[i]!;
        if (!s.byName.has(name)) continue;
        const service = String(s.resource.attributes['service.name'] ?? 'unknown');
        const pod = s.resource.attributes['k8s.pod.uid'];
        for (let j = 0; j < s.all.length; j++) {
          const series = s.all[j]!;
          if (series.name !== name || series.count === 0) continue;
          if (!headed) { w.family(prom, DESCRIPTIONS[name], 'histogram'); headed = true; }
          w.histogram(prom, seriesLabels(service, pod, series.attributes), BOUNDS, series.counts, series.sum, series.count);
          if (w.pending >= chunkChars) yield w.take();
        }
      }
    }
    if (w.pending > 0) yield w.take();
  }

  async forceFlush(): Promise<void> {
    await this.exportNow();
    await this.opts.exporter?.forceFlush().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.forceFlush();
    await this.opts.exporter?.shutdown().catch(() => undefined);
  }
}

function countPoints(rm: ResourceMetrics): number {
  let n = 0;
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) n += m.dataPoints.length;
  return n;
}

const promName = (otel: string, unit: string) => `${otel.replace(/[^a-zA-Z0-9_]/g, '_')}${unit === 's' ? '_seconds' : ''}`;
const promLabel = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, '_');

/** Service, and the pod when known, then the series' attributes: two pods of one service are two series. */
function seriesLabels(service: string, pod: unknown, attributes: Attributes): string {
  const labels: Record<string, string> = { service_name: service };
  if (pod !== undefined) labels.k8s_pod_uid = String(pod);
  for (const k in attributes) labels[promLabel(k)] = String(attributes[k]);
  return labelPairs(labels);
}
