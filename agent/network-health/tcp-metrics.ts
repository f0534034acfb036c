// The TCP network-health instruments and their aggregation: counters and histograms per service
// (resource as for the RED metrics: service.name, host.name, k8s.pod.uid) and attribute set,
// exported over OTLP through a PushMetricExporter (one export call per resource) and rendered as
// Prometheus text for /metrics. Events are per TCP connection event, not per syscall, so a series
// is found by a string key; every label value is bounded by the caller (tcp-event-metrics.ts).
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { hostname } from 'node:os';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality, DataPointType, InstrumentType,
  type MetricData, type PushMetricExporter, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { ExportResultCode, hrTime } from '@opentelemetry/core';
import type { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { PrometheusText, labelPairs, type Labels } from '../../common/telemetry/prometheus-text.js';
import { SCHEMA_URL, SCOPE_NAME, SCOPE_VERSION } from '../../common/semconv/semconv.js';

export const TCP_METRIC = {
  connectDuration: 'sockeye.tcp.connect.duration',
  connections: 'sockeye.tcp.connections',
  connectionDuration: 'sockeye.tcp.connection.duration',
  retransmits: 'sockeye.tcp.retransmits',
  rtt: 'sockeye.tcp.rtt',
  resets: 'sockeye.tcp.resets',
  listenOverflows: 'sockeye.tcp.listen.overflows',
} as const;
export type TcpMetricName = (typeof TCP_METRIC)[keyof typeof TCP_METRIC];

interface Instrument { type: 'counter' | 'histogram'; unit: string; description: string; bounds?: number[] }

/** Connect: loopback handshakes take tens of µs, a SYN timeout up to ~2 min. */
const CONNECT_BOUNDS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 130];
const LIFETIME_BOUNDS_S = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400];
const RTT_BOUNDS_S = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export const TCP_INSTRUMENTS: Record<TcpMetricName, Instrument> = {
  [TCP_METRIC.connectDuration]: { type: 'histogram', unit: 's', bounds: CONNECT_BOUNDS_S, description: 'TCP connect time, SYN sent to established or to failure (error.type).' },
  [TCP_METRIC.connections]: { type: 'counter', unit: '{connection}', description: 'TCP connections opened and closed, by role.' },
  [TCP_METRIC.connectionDuration]: { type: 'histogram', unit: 's', bounds: LIFETIME_BOUNDS_S, description: 'TCP connection lifetime, established to closed.' },
  [TCP_METRIC.retransmits]: { type: 'counter', unit: '{segment}', description: 'TCP segments retransmitted (SYN and SYN-ACK retransmits told apart).' },
  [TCP_METRIC.rtt]: { type: 'histogram', unit: 's', bounds: RTT_BOUNDS_S, description: "The kernel's smoothed RTT of TCP connections, taken at close." },
  [TCP_METRIC.resets]: { type: 'counter', unit: '{reset}', description: "TCP resets sent and received, with the kernel's reason and the TCP state." },
  [TCP_METRIC.listenOverflows]: { type: 'counter', unit: '{packet}', description: 'Packets dropped because a listening socket\'s accept queue was full.' },
};

class Cell {
  value = 0; // counter
  counts?: Float64Array;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  exported?: { value: number; counts?: Float64Array; count: number; sum: number };
  constructor(readonly name: TcpMetricName, readonly attributes: Attributes, readonly start: HrTime) {
    const b = TCP_INSTRUMENTS[name].bounds;
    if (b) this.counts = new Float64Array(b.length + 1);
  }
  add(v: number): void {
    const b = TCP_INSTRUMENTS[this.name].bounds;
    if (!b) { this.value += v; return; }
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    let i = 0;
    while (i < b.length && b[i]! < v) i++; // inclusive upper bounds, as the SDK
    this.counts![i]!++;
  }
}

interface ResourceCells { resource: Resource; service: string; podUid?: string; cells: Map<string, Cell> }

export const TCP_OVERFLOW_SERVICE = 'sockeye.overflow';

export interface TcpMetricsOptions {
  telemetry: TelemetryRegistry;
  exporter?: PushMetricExporter;
  exportIntervalMs?: number;
  maxServices?: number;
}

export class TcpMetrics {
  private readonly sets = new Map<string, ResourceCells>();
  private readonly host = hostname();
  private readonly temporality: AggregationTemporality;
  private timer?: NodeJS.Timeout;
  private exporting: Promise<void> = Promise.resolve();
  private lastExport: HrTime = hrTime();
  private closed = false;

  constructor(private readonly opts: TcpMetricsOptions) {
    this.temporality = opts.exporter?.selectAggregationTemporality?.(InstrumentType.COUNTER) ?? AggregationTemporality.CUMULATIVE;
    if (opts.exporter) {
      this.timer = setInterval(() => void this.exportNow(), opts.exportIntervalMs ?? 60_000);
      this.timer.unref();
    }
  }

  /** Adds v (a count, or seconds for histograms) to the series of this service/pod and attribute set. */
  record(service: string, podUid: string | undefined, name: TcpMetricName, attributes: Attributes, v = 1): void {
    const set = this.resourceCells(service, podUid);
    const key = `${name}\0${JSON.stringify(attributes)}`;
    let cell = set.cells.get(key);
    if (!cell) set.cells.set(key, (cell = new Cell(name, { ...attributes }, hrTime())));
    cell.add(v);
  }

  /** Current value of a counter, or count of a histogram, summed over series whose attributes include `match`. */
  total(name: TcpMetricName, match: Attributes = {}, service?: string): number {
    let n = 0;
    for (const set of this.sets.values()) {
      if (service !== undefined && set.service !== service) continue;
      for (const c of set.cells.values()) {
        if (c.name !== name || !Object.entries(match).every(([k, v]) => c.attributes[k] === v)) continue;
        n += TCP_INSTRUMENTS[name].bounds ? c.count : c.value;
      }
    }
    return n;
  }

  /** Every series (tests, debugging). */
  series(): Array<{ service: string; name: TcpMetricName; attributes: Attributes; value: number; sum: number }> {
    const out = [];
    for (const set of this.sets.values()) {
      for (const c of set.cells.values()) {
        out.push({ service: set.service, name: c.name, attributes: c.attributes, value: TCP_INSTRUMENTS[c.name].bounds ? c.count : c.value, sum: c.sum });
      }
    }
    return out;
  }

  get serviceCount(): number { return this.sets.size; }

  private resourceCells(service: string, podUid?: string): ResourceCells {
    const key = podUid ? `${service}\0${podUid}` : service;
    let s = this.sets.get(key);
    if (s) return s;
    if (this.sets.size >= (this.opts.maxServices ?? 256) && service !== TCP_OVERFLOW_SERVICE) {
      this.opts.telemetry.add('sockeye_tcp_services_overflow_total', `TCP network-health records from services beyond the per-agent cap, folded into service ${TCP_OVERFLOW_SERVICE}.`);
      return this.resourceCells(TCP_OVERFLOW_SERVICE);
    }
    const attrs: Attributes = { 'service.name': service, 'host.name': this.host, 'telemetry.sdk.name': 'sockeye' };
    if (podUid) attrs['k8s.pod.uid'] = podUid;
    s = { resource: resourceFromAttributes(attrs, { schemaUrl: SCHEMA_URL }), service, podUid, cells: new Map() };
    this.sets.set(key, s);
    return s;
  }

  collect(temporality = AggregationTemporality.CUMULATIVE): ResourceMetrics[] {
    const now = hrTime();
    return [...this.sets.values()].map((s) => this.resourceMetrics(s, now, temporality));
  }

  private resourceMetrics(s: ResourceCells, now: HrTime, temporality: AggregationTemporality): ResourceMetrics {
    const delta = temporality === AggregationTemporality.DELTA;
    const byName = new Map<TcpMetricName, MetricData>();
    for (const c of s.cells.values()) {
      const inst = TCP_INSTRUMENTS[c.name];
      const prev = delta ? c.exported : undefined;
      const startTime = prev ? this.lastExport : c.start;
      let m = byName.get(c.name);
      if (inst.type === 'counter') {
        const value = c.value - (prev?.value ?? 0);
        if (delta && value === 0) continue;
        if (!m) byName.set(c.name, (m = { descriptor: { name: c.name, description: inst.description, unit: inst.unit, valueType: ValueType.INT },
          aggregationTemporality: temporality, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: [] }));
        (m.dataPoints as Array<{ startTime: HrTime; endTime: HrTime; attributes: Attributes; value: number }>).push({ startTime, endTime: now, attributes: c.attributes, value });
      } else {
        const count = c.count - (prev?.count ?? 0);
        if (count === 0) continue;
        if (!m) byName.set(c.name, (m = { descriptor: { name: c.name, description: inst.description, unit: inst.unit, valueType: ValueType.DOUBLE },
          aggregationTemporality: temporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: [] }));
        const counts = Array.from(c.counts!, (x, i) => x - (prev?.counts?.[i] ?? 0));
        (m.dataPoints as unknown[]).push({ startTime, endTime: now, attributes: c.attributes,
          value: { buckets: { boundaries: inst.bounds!, counts }, sum: c.sum - (prev?.sum ?? 0), count,
            ...(delta ? {} : { min: c.min, max: c.max }) } });
      }
    }
    return { resource: s.resource, scopeMetrics: [{ scope: { name: SCOPE_NAME, version: SCOPE_VERSION, schemaUrl: SCHEMA_URL }, metrics: [...byName.values()] }] };
  }

  exportNow(): Promise<void> {
    const exporter = this.opts.exporter;
    if (!exporter) return Promise.resolve();
    this.exporting = this.exporting.then(async () => {
      const now = hrTime();
      const batches = [...this.sets.values()].map((s) => this.resourceMetrics(s, now, this.temporality))
        .filter((rm) => rm.scopeMetrics[0]!.metrics.length > 0);
      if (this.temporality === AggregationTemporality.DELTA) {
        for (const s of this.sets.values()) {
          for (const c of s.cells.values()) c.exported = { value: c.value, counts: c.counts && Float64Array.from(c.counts), count: c.count, sum: c.sum };
        }
        this.lastExport = now;
      }
      await Promise.all(batches.map((rm) => this.exportOne(exporter, rm)));
    });
    return this.exporting;
  }

  private exportOne(exporter: PushMetricExporter, rm: ResourceMetrics): Promise<void> {
    let points = 0;
    for (const m of rm.scopeMetrics[0]!.metrics) points += m.dataPoints.length;
    const t = this.opts.telemetry;
    const failed = () => t.add('sockeye_metric_points_dropped_total', 'Metric data points lost, by reason.', points, { reason: 'export_failed' });
    return new Promise((resolve) => {
      try {
        exporter.export(rm, (r) => {
          if (r.code === ExportResultCode.SUCCESS) t.add('sockeye_metric_points_exported_total', 'Metric data points accepted by the OTLP endpoint.', points);
          else failed();
          resolve();
        });
      } catch {
        failed();
        resolve();
      }
    });
  }

  /** Prometheus text, cumulative (names translated the usual OpenTelemetry → Prometheus way). */
  renderPrometheus(): string {
    const fams = new Map<string, { inst: Instrument; rows: Array<{ labels: string; cell: Cell }> }>();
    for (const s of this.sets.values()) {
      const base = labelPairs(s.podUid ? { service_name: s.service, k8s_pod_uid: s.podUid } : { service_name: s.service });
      for (const cell of s.cells.values()) {
        const inst = TCP_INSTRUMENTS[cell.name];
        const name = prometheusName(cell.name, inst);
        let f = fams.get(name);
        if (!f) fams.set(name, (f = { inst, rows: [] }));
        const attrs: Labels = {};
        for (const [k, v] of Object.entries(cell.attributes)) attrs[k.replace(/[^a-zA-Z0-9_]/g, '_')] = String(v);
        const extra = labelPairs(attrs);
        f.rows.push({ labels: extra ? `${base},${extra}` : base, cell });
      }
    }
    const out = new PrometheusText();
    for (const [name, { inst, rows }] of fams) {
      out.family(name, inst.description, inst.type);
      for (const { labels, cell: c } of rows) {
        if (inst.type === 'counter') out.sample(name, labels, c.value);
        else out.histogram(name, labels, inst.bounds!, c.counts!, c.sum, c.count);
      }
    }
    return out.text();
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.exportNow();
    await this.opts.exporter?.forceFlush().catch(() => undefined);
    await this.opts.exporter?.shutdown().catch(() => undefined);
  }
}

/** sockeye.tcp.connect.duration (s) → sockeye_tcp_connect_duration_seconds; counters get _total;
 *  annotation units ({connection}) add no suffix. */
export function prometheusName(name: string, inst: Instrument): string {
  const base = name.replace(/[^a-zA-Z0-9_]/g, '_') + (inst.unit === 's' ? '_seconds' : '');
  return inst.type === 'counter' ? `${base}_total` : base;
}
