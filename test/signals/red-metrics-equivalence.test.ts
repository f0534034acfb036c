// Our RED aggregation (agent/signals/red-metrics.ts) against the OTel SDK's own MeterProvider fed
// the same records: the data points must be identical — bucket counts, count, sum, min, max and
// attributes — for cumulative export, for delta export (through the SDK's InMemoryMetricExporter,
// which asks for delta temporality), and for the /metrics text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality, AggregationType, InMemoryMetricExporter, MeterProvider, MetricReader, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { RedMetrics } from '../../agent/signals/red-metrics.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { DURATION_BUCKETS_S, METRIC, type MetricName } from '../../common/semconv/semconv.js';
import type { MetricRecord } from '../../agent/signals/span-builder.js';

class PullReader extends MetricReader {
  constructor(temporality = AggregationTemporality.CUMULATIVE) {
    super({ aggregationTemporalitySelector: () => temporality });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The SDK reference: one MeterProvider per service, explicit semconv buckets, as the agent once did. */
class SdkReference {
  private readonly readers = new Map<string, { reader: PullReader; meter: ReturnType<MeterProvider['getMeter']> }>();
  constructor(private readonly temporality = AggregationTemporality.CUMULATIVE) {}
  record(service: string, r: MetricRecord): void {
    let s = this.readers.get(service);
    if (!s) {
      const reader = new PullReader(this.temporality);
      const provider = new MeterProvider({
        readers: [reader],
        views: Object.values(METRIC).map((name) => ({ instrumentName: name,
          aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: DURATION_BUCKETS_S, recordMinMax: true } } })),
      });
      this.readers.set(service, (s = { reader, meter: provider.getMeter('ref') }));
    }
    s.meter.createHistogram(r.name, { unit: 's' }).record(r.seconds, r.attributes);
  }
  async points(): Promise<Map<string, Point>> {
    const out = new Map<string, Point>();
    for (const [service, s] of this.readers) addPoints(out, service, (await s.reader.collect()).resourceMetrics);
    return out;
  }
}

interface Point { counts: number[]; count: number; sum: number; min?: number; max?: number }

function keyOf(service: string, metric: string, attrs: Attributes): string {
  return JSON.stringify([service, metric, Object.entries(attrs).sort(([a], [b]) => (a < b ? -1 : 1))]);
}

function addPoints(out: Map<string, Point>, service: string, rm: ResourceMetrics): void {
  for (const sm of rm.scopeMetrics) {
    for (const m of sm.metrics) {
      for (const dp of m.dataPoints as { attributes: Attributes; value: { buckets: { boundaries: number[]; counts: number[] }; count: number; sum?: number; min?: number; max?: number } }[]) {
        if (dp.value.count === 0) continue;
        assert.deepEqual(dp.value.buckets.boundaries, DURATION_BUCKETS_S);
        out.set(keyOf(service, m.descriptor.name, dp.attributes),
          { counts: [...dp.value.buckets.counts], count: dp.value.count, sum: dp.value.sum ?? 0, min: dp.value.min, max: dp.value.max });
      }
    }
  }
}

async function ourPoints(red: RedMetrics): Promise<Map<string, Point>> {
  const out = new Map<string, Point>();
  for (const rm of await red.collect()) addPoints(out, String(rm.resource.attributes['service.name']), rm);
  return out;
}

function assertSamePoints(ours: Map<string, Point>, ref: Map<string, Point>): void {
  assert.deepEqual([...ours.keys()].sort(), [...ref.keys()].sort());
  for (const [k, r] of ref) {
    const o = ours.get(k)!;
    assert.deepEqual(o.counts, r.counts, k);
    assert.equal(o.count, r.count, k);
    assert.ok(Math.abs(o.sum - r.sum) <= 1e-9 * Math.max(1, Math.abs(r.sum)), `${k}: sum ${o.sum} vs ${r.sum}`);
    assert.equal(o.min, r.min, k);
    assert.equal(o.max, r.max, k);
  }
}

const metricNames = Object.values(METRIC) as MetricName[];
// Values on and around every bucket boundary (boundaries are inclusive upper bounds), and beyond.
const seconds = fc.oneof(
  fc.constantFrom(...DURATION_BUCKETS_S, 0, 20),
  fc.constantFrom(...DURATION_BUCKETS_S).map((b) => b + 1e-12),
  fc.double({ min: 0, max: 15, noNaN: true }),
);
const record = fc.record({
  service: fc.constantFrom('checkout', 'cart', 'dns-client'),
  name: fc.constantFrom(...metricNames),
  seconds,
  route: fc.constantFrom('/a', '/b/{id}', '/'),
  status: fc.constantFrom(200, 404, 500),
  withError: fc.boolean(),
  reversed: fc.boolean(),
});

function toRecord(r: { name: MetricName; seconds: number; route: string; status: number; withError: boolean; reversed: boolean }): MetricRecord {
  const entries: [string, string | number][] = [['http.request.method', 'GET'], ['http.route', r.route], ['http.response.status_code', r.status]];
  if (r.withError) entries.push(['error.type', String(r.status)]);
  // The same attribute set in a different key order must land in the same series.
  if (r.reversed) entries.reverse();
  return { name: r.name, seconds: r.seconds, attributes: Object.fromEntries(entries) };
}

test('cumulative: our data points equal the SDK MeterProvider\'s for the same records', async () => {
  await fc.assert(fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 300 }), async (recs) => {
    const red = new RedMetrics({ telemetry: new TelemetryRegistry() });
    const ref = new SdkReference();
    for (const r of recs) {
      red.record(r.service, toRecord(r));
      ref.record(r.service, toRecord(r));
    }
    assertSamePoints(await ourPoints(red), await ref.points());
    await red.shutdown();
  }), { numRuns: 60 });
});

test('delta export through the SDK\'s InMemoryMetricExporter: each interval carries only its own records', async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  const red = new RedMetrics({ telemetry: new TelemetryRegistry(), exporter, exportIntervalMs: 3_600_000 });
  const ref = new SdkReference(AggregationTemporality.DELTA);
  const recs = fc.sample(record, { numRuns: 400, seed: 7 });
  const exported = async (): Promise<Map<string, Point>> => {
    const out = new Map<string, Point>();
    for (const rm of exporter.getMetrics()) {
      for (const sm of rm.scopeMetrics) for (const m of sm.metrics) assert.equal(m.aggregationTemporality, AggregationTemporality.DELTA);
      addPoints(out, String(rm.resource.attributes['service.name']), rm);
    }
    exporter.reset();
    return out;
  };
  for (const part of [recs.slice(0, 150), recs.slice(150, 151), recs.slice(151)]) {
    for (const r of part) {
      red.record(r.service, toRecord(r));
      ref.record(r.service, toRecord(r));
    }
    await red.forceFlush();
    assertSamePoints(await exported(), await ref.points());
  }
  // Nothing recorded since: nothing exported.
  await red.forceFlush();
  assert.equal(exporter.getMetrics().length, 0);
  await red.shutdown();
});

test('/metrics text: cumulative buckets with +Inf, _sum and _count, service as a label', async () => {
  const red = new RedMetrics({ telemetry: new TelemetryRegistry() });
  for (const s of [0.003, 0.005, 0.2, 30]) red.record('shop', { name: METRIC.httpServer, seconds: s, attributes: { 'http.route': '/x', 'http.response.status_code': 200 } });
  const text = await red.renderPrometheus();
  const line = (le: string) => text.split('\n').find((l) => l.startsWith('http_server_request_duration_seconds_bucket{') && l.includes(`le="${le}"`));
  assert.match(line('0.005')!, /service_name="shop".*http_route="\/x".*http_response_status_code="200".* 2$/);
  assert.match(line('0.25')!, / 3$/);
  assert.match(line('+Inf')!, / 4$/);
  assert.match(text, /http_server_request_duration_seconds_count\{service_name="shop",http_route="\/x",http_response_status_code="200"\} 4/);
  assert.match(text, /# TYPE http_server_request_duration_seconds histogram/);
  await red.shutdown();
});

test('services beyond the cap fold into the overflow service, counted', async () => {
  const t = new TelemetryRegistry();
  const red = new RedMetrics({ telemetry: t, maxServices: 2 });
  for (const svc of ['a', 'b', 'c', 'd']) red.record(svc, { name: METRIC.dnsLookup, seconds: 0.001, attributes: {} });
  const services = (await red.collect()).map((rm) => rm.resource.attributes['service.name']).sort();
  assert.deepEqual(services, ['a', 'b', 'sockeye.overflow']);
  assert.equal(t.get('sockeye_metric_services_overflow_total'), 2);
  await red.shutdown();
});
