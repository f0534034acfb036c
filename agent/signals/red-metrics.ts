// RED histograms through the OTel metrics SDK. A MeterProvider carries one Resource, and metrics
// must be attributed to the traced service, so there is one MeterProvider per service.name (capped;
// services beyond the cap share one overflow provider, and that is counted). All providers share
// one OTLP exporter (periodic push) and each also has a pull reader that /metrics scrapes.
import type { Histogram } from '@opentelemetry/api';
import { hostname } from 'node:os';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality, AggregationType, DataPointType, MeterProvider, MetricReader, PeriodicExportingMetricReader,
  type PushMetricExporter, type ResourceMetrics, type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { SelfTelemetry } from '../telemetry/self-telemetry.js';
import { escapeLabel } from '../telemetry/self-telemetry.js';
import type { MetricRecord } from './span-builder.js';
import { DURATION_BUCKETS_S, METRIC, SCHEMA_URL, SCOPE_NAME, SCOPE_VERSION, type MetricName } from './semconv.js';

export const OVERFLOW_SERVICE = 'sockeye.overflow';

const DESCRIPTIONS: Record<MetricName, string> = {
  [METRIC.httpServer]: 'Duration of HTTP server requests.',
  [METRIC.httpClient]: 'Duration of HTTP client requests.',
  [METRIC.rpcServer]: 'Duration of RPC calls, server side.',
  [METRIC.rpcClient]: 'Duration of RPC calls, client side.',
  [METRIC.dnsLookup]: 'Duration of DNS lookups.',
};

/** The semconv bucket boundaries set explicitly: the SDK default buckets are for milliseconds. */
export const DURATION_VIEWS: ViewOptions[] = Object.values(METRIC).map((name) => ({
  instrumentName: name,
  aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: DURATION_BUCKETS_S, recordMinMax: true } },
}));

/** A reader the /metrics endpoint pulls from (cumulative, as Prometheus expects). */
class PullReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Shares one exporter between providers, counts outcomes, and keeps shutdown for the owner. */
class SharedExporter implements PushMetricExporter {
  constructor(private readonly inner: PushMetricExporter, private readonly telemetry: SelfTelemetry) {}
  export(metrics: ResourceMetrics, done: (r: ExportResult) => void): void {
    const points = countPoints(metrics);
    this.inner.export(metrics, (r) => {
      if (r.code === ExportResultCode.SUCCESS) this.telemetry.add('sockeye_metric_points_exported_total', 'Metric data points accepted by the OTLP endpoint.', points);
      else this.telemetry.add('sockeye_metric_points_dropped_total', 'Metric data points lost, by reason.', points, { reason: 'export_failed' });
      done(r);
    });
  }
  forceFlush(): Promise<void> { return this.inner.forceFlush(); }
  selectAggregationTemporality = (t: Parameters<NonNullable<PushMetricExporter['selectAggregationTemporality']>>[0]) =>
    this.inner.selectAggregationTemporality?.(t) ?? AggregationTemporality.CUMULATIVE;
  async shutdown(): Promise<void> {}
}

function countPoints(rm: ResourceMetrics): number {
  let n = 0;
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) n += m.dataPoints.length;
  return n;
}

interface ServiceMeters {
  provider: MeterProvider;
  pull: PullReader;
  histograms: Map<MetricName, Histogram>;
}

export interface RedMetricsOptions {
  telemetry: SelfTelemetry;
  exporter?: PushMetricExporter;
  exportIntervalMs?: number;
  exportTimeoutMs?: number;
  maxServices?: number;
}

export class RedMetrics {
  private readonly services = new Map<string, ServiceMeters>();
  private readonly shared?: SharedExporter;
  private readonly host = hostname();

  constructor(private readonly opts: RedMetricsOptions) {
    if (opts.exporter) this.shared = new SharedExporter(opts.exporter, opts.telemetry);
  }

  record(serviceName: string, rec: MetricRecord): void {
    this.meters(serviceName).histograms.get(rec.name)!.record(rec.seconds, rec.attributes);
  }

  get serviceCount(): number {
    return this.services.size;
  }

  private meters(serviceName: string): ServiceMeters {
    let s = this.services.get(serviceName);
    if (s) return s;
    const cap = this.opts.maxServices ?? 256;
    if (this.services.size >= cap) {
      this.opts.telemetry.add('sockeye_metric_services_overflow_total', `Records from services beyond the per-agent cap, folded into service ${OVERFLOW_SERVICE}.`);
      if (serviceName !== OVERFLOW_SERVICE) return this.meters(OVERFLOW_SERVICE);
    }
    const pull = new PullReader();
    const readers: MetricReader[] = [pull];
    if (this.shared) {
      readers.push(new PeriodicExportingMetricReader({
        exporter: this.shared,
        exportIntervalMillis: this.opts.exportIntervalMs ?? 60_000,
        exportTimeoutMillis: Math.min(this.opts.exportTimeoutMs ?? 30_000, this.opts.exportIntervalMs ?? 60_000),
      }));
    }
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName, 'host.name': this.host, 'telemetry.sdk.name': 'sockeye' }, { schemaUrl: SCHEMA_URL }),
      views: DURATION_VIEWS,
      readers,
    });
    const meter = provider.getMeter(SCOPE_NAME, SCOPE_VERSION, { schemaUrl: SCHEMA_URL });
    const histograms = new Map<MetricName, Histogram>();
    for (const name of Object.values(METRIC)) histograms.set(name, meter.createHistogram(name, { unit: 's', description: DESCRIPTIONS[name] }));
    s = { provider, pull, histograms };
    this.services.set(serviceName, s);
    return s;
  }

  /** Collects every service's cumulative histograms from the pull readers. */
  async collect(): Promise<ResourceMetrics[]> {
    const out: ResourceMetrics[] = [];
    for (const s of this.services.values()) {
      const r = await s.pull.collect();
      out.push(r.resourceMetrics);
    }
    return out;
  }

  /** Prometheus text for /metrics. */
  async renderPrometheus(): Promise<string> {
    return renderHistograms(await this.collect());
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.provider.forceFlush().catch(() => undefined)));
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.provider.shutdown().catch(() => undefined)));
    await this.opts.exporter?.shutdown().catch(() => undefined);
  }
}

const promName = (otel: string, unit: string) => `${otel.replace(/[^a-zA-Z0-9_]/g, '_')}${unit === 's' ? '_seconds' : ''}`;
const promLabel = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, '_');

/** OTel histograms → Prometheus text (cumulative buckets, +Inf, _sum, _count; service as a label). */
export function renderHistograms(all: ResourceMetrics[]): string {
  const byName = new Map<string, { help: string; lines: string[] }>();
  for (const rm of all) {
    const service = String(rm.resource.attributes['service.name'] ?? 'unknown');
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        if (m.dataPointType !== DataPointType.HISTOGRAM) continue;
        const name = promName(m.descriptor.name, m.descriptor.unit);
        let fam = byName.get(name);
        if (!fam) byName.set(name, (fam = { help: m.descriptor.description, lines: [] }));
        for (const dp of m.dataPoints) {
          const base = [`service_name="${escapeLabel(service)}"`];
          for (const [k, v] of Object.entries(dp.attributes)) base.push(`${promLabel(k)}="${escapeLabel(String(v))}"`);
          const { boundaries, counts } = dp.value.buckets;
          let cum = 0;
          for (let i = 0; i < counts.length; i++) {
            cum += counts[i]!;
            const le = i < boundaries.length ? String(boundaries[i]) : '+Inf';
            fam.lines.push(`${name}_bucket{${[...base, `le="${le}"`].join(',')}} ${cum}`);
          }
          fam.lines.push(`${name}_sum{${base.join(',')}} ${dp.value.sum ?? 0}`);
          fam.lines.push(`${name}_count{${base.join(',')}} ${dp.value.count}`);
        }
      }
    }
  }
  const out: string[] = [];
  for (const [name, f] of byName) out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} histogram`, ...f.lines);
  return out.length ? out.join('\n') + '\n' : '';
}
