// RED histogram recording: the OTel SDK's MeterProvider (Histogram.record with an attribute
// object, as the agent did until 2026-11-22) against our aggregation in agent/signals/red-metrics.ts,
// on the same records in one run. Records look like the span builder's HTTP server records: a
// fresh attribute object per transaction (that is what the signal path hands over), 4 routes × 3
// statuses × 2 services.
// Run: node dist/bench/agent/red-metrics-aggregation.js [records]
import type { Attributes, Histogram } from '@opentelemetry/api';
import { AggregationTemporality, AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { RedMetrics } from '../../agent/signals/red-metrics.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { DURATION_BUCKETS_S, METRIC } from '../../common/semconv/semconv.js';

class PullReader extends MetricReader {
  constructor() { super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE }); }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const ROUTES = ['/api/users/{id}', '/api/orders/{id}', '/health', '/api/items/{id}'];
const STATUS = [200, 404, 500];

function attrs(i: number): Attributes {
  const status = STATUS[i % 3]!;
  const a: Attributes = { 'http.request.method': 'GET', 'network.protocol.version': '1.1', 'http.route': ROUTES[i % 4]!, 'http.response.status_code': status,
    'url.scheme': 'http', 'server.port': 8080 };
  if (status >= 500) a['error.type'] = String(status);
  return a;
}
const service = (i: number) => (i & 8 ? 'checkout' : 'cart');
const seconds = (i: number) => ((i * 7919) % 10_000) / 20_000;

function cpuNs(fn: () => void): number {
  const a = process.cpuUsage();
  fn();
  const d = process.cpuUsage(a);
  return (d.user + d.system) * 1000;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 2_000_000);
  console.log(`RED histogram recording, ${n.toLocaleString('en-US')} records, node ${process.version}`);
  const sdk = new Map<string, Histogram>();
  const readers: PullReader[] = [];
  for (const svc of ['cart', 'checkout']) {
    const reader = new PullReader();
    readers.push(reader);
    const provider = new MeterProvider({ readers: [reader], views: [{ instrumentName: METRIC.httpServer,
      aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: DURATION_BUCKETS_S, recordMinMax: true } } }] });
    sdk.set(svc, provider.getMeter('bench').createHistogram(METRIC.httpServer, { unit: 's' }));
  }
  const ours = new RedMetrics({ telemetry: new TelemetryRegistry() });
  const runSdk = (count: number) => { for (let i = 0; i < count; i++) sdk.get(service(i))!.record(seconds(i), attrs(i)); };
  const runOurs = (count: number) => { for (let i = 0; i < count; i++) ours.record(service(i), { name: METRIC.httpServer, seconds: seconds(i), attributes: attrs(i) }); };
  const runAlloc = (count: number) => { let x = 0; for (let i = 0; i < count; i++) x += Object.keys(attrs(i)).length + seconds(i) + service(i).length; return x; };
  runSdk(50_000); runOurs(50_000); runAlloc(50_000);
  // Alternate A B A B and keep the medians: the machine is shared.
  const t: Record<'sdk' | 'ours' | 'input', number[]> = { sdk: [], ours: [], input: [] };
  for (let round = 0; round < 5; round++) {
    t.input.push(cpuNs(() => runAlloc(n / 5)));
    t.sdk.push(cpuNs(() => runSdk(n / 5)));
    t.ours.push(cpuNs(() => runOurs(n / 5)));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]! / (n / 5);
  const input = med(t.input);
  const s = med(t.sdk) - input;
  const o = med(t.ours) - input;
  console.log(`making the record (attribute object; subtracted below)  ${input.toFixed(0).padStart(6)} ns/record`);
  console.log(`OTel SDK MeterProvider Histogram.record                 ${s.toFixed(0).padStart(6)} ns/record`);
  console.log(`sockeye RedMetrics.record                               ${o.toFixed(0).padStart(6)} ns/record`);
  console.log(`ours vs SDK: ${(s / o).toFixed(1)}× less CPU per record`);
  // Same totals from both (a cheap sanity check that both counted everything).
  let sdkCount = 0;
  for (const r of readers) for (const sm of (await r.collect()).resourceMetrics.scopeMetrics) for (const m of sm.metrics) for (const dp of m.dataPoints) sdkCount += (dp.value as { count: number }).count;
  let ourCount = 0;
  for (const rm of await ours.collect()) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) for (const dp of m.dataPoints) ourCount += (dp.value as { count: number }).count;
  if (sdkCount !== ourCount) throw new Error(`counts differ: SDK ${sdkCount}, ours ${ourCount}`);
  console.log(`both counted ${ourCount.toLocaleString('en-US')} records`);
  await ours.shutdown();
}

void main();
