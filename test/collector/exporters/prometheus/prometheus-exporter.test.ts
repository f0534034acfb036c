// exporter `prometheus` text output for each OTLP metric kind: names (unit words, _total),
// cumulative replace vs delta accumulate, histogram buckets made cumulative, summaries, label
// escaping, const labels, and what it cannot represent being counted. Scraped over HTTP.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector } from '../../helpers/collector-harness.js';
import type { Service } from '../../../../otel-collector/service/service.js';
import type { PrometheusExporter } from '../../../../otel-collector/exporters/prometheus/prometheus-exporter.js';
import type { AnyConsumer } from '../../../../otel-collector/component/consumer.js';
import { AggregationTemporality, type Metrics, type Metric } from '../../../../otel-collector/pdata/index.js';
import { prometheusName } from '../../../../otel-collector/exporters/prometheus/prometheus-naming.js';

const services: Service[] = [];
after(async () => { for (const s of services) await s.shutdown(); });

const now = { low: 0, high: 0x17a00000, unsigned: true };
// No resource attributes here, so no job/instance/target_info: these tests are about the text of
// each metric kind (resources: prometheus-resource-labels.test.ts).
const wrap = (metrics: Metric[]): Metrics => ({ resourceMetrics: [{ resource: { attributes: [] }, scopeMetrics: [{ metrics }] }] });
const attr = (k: string, v: string) => ({ key: k, value: { stringValue: v } });

test('names follow the OpenTelemetry → Prometheus rules', () => {
  const o = { namespace: '', suffixes: true };
  assert.equal(prometheusName('http.server.request.duration', 's', 'histogram', o), 'http_server_request_duration_seconds');
  assert.equal(prometheusName('traces_service_graph_request_server_seconds', 's', 'histogram', o), 'traces_service_graph_request_server_seconds');
  assert.equal(prometheusName('traces_service_graph_request_total', '1', 'counter', o), 'traces_service_graph_request_total');
  assert.equal(prometheusName('requests', '{request}', 'counter', o), 'requests_total');
  assert.equal(prometheusName('io', 'By', 'counter', o), 'io_bytes_total');
  assert.equal(prometheusName('2xx.rate', undefined, 'gauge', { namespace: 'sockeye', suffixes: true }), 'sockeye_2xx_rate');
  assert.equal(prometheusName('queue.size', undefined, 'gauge', { namespace: '', suffixes: false }), 'queue_size');
});

test('each metric kind renders as scraped text', async () => {
  const svc = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
exporters: { prometheus: { endpoint: "127.0.0.1:0", const_labels: { cluster: c1 } } }
service: { pipelines: { metrics: { receivers: [otlp], exporters: [prometheus] } } }
`);
  services.push(svc);
  const exp = svc.component('exporter', 'prometheus') as unknown as PrometheusExporter & AnyConsumer;
  const delta = (v: number): Metric => ({ name: 'jobs.done', unit: '{job}', sum: { aggregationTemporality: AggregationTemporality.DELTA, isMonotonic: true, dataPoints: [{ attributes: [attr('queue', 'a')], timeUnixNano: now, asInt: v }] } });
  const cumulative = (v: number): Metric => ({ name: 'bytes.sent', unit: 'By', sum: { aggregationTemporality: AggregationTemporality.CUMULATIVE, isMonotonic: true, dataPoints: [{ attributes: [], timeUnixNano: now, asDouble: v }] } });
  await exp.consumeMetrics!(wrap([delta(2), cumulative(100),
    { name: 'temp', description: 'line1\nline2', gauge: { dataPoints: [{ attributes: [attr('room', 'a "b" \\ c')], timeUnixNano: now, asDouble: -1.5 }] } },
    { name: 'http.server.request.duration', unit: 's', histogram: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [
      { attributes: [attr('http.route', '/x')], timeUnixNano: now, count: 6, sum: 1.25, bucketCounts: [1, 2, 3], explicitBounds: [0.1, 0.5] },
    ] } },
    { name: 'rpc.latency', summary: { dataPoints: [{ attributes: [], timeUnixNano: now, count: 4, sum: 2, quantileValues: [{ quantile: 0.5, value: 0.4 }, { quantile: 0.99, value: 0.9 }] }] } },
    { name: 'exp', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [{ attributes: [], timeUnixNano: now, count: 1, scale: 0, zeroCount: 0 }] } },
  ]));
  await exp.consumeMetrics!(wrap([delta(3), cumulative(150)]));
  const text = await (await fetch(`http://127.0.0.1:${exp.port}/metrics`)).text();
  const lines = text.split('\n');
  const has = (l: string) => assert.ok(lines.includes(l), `missing line: ${l}\n---\n${text}`);
  has('# TYPE jobs_done_total counter');
  has('jobs_done_total{cluster="c1",queue="a"} 5'); // delta: 2 + 3
  has('bytes_sent_bytes_total{cluster="c1"} 150'); // cumulative: latest
  has('# HELP temp line1\\nline2');
  has('# TYPE temp gauge');
  has('temp{cluster="c1",room="a \\"b\\" \\\\ c"} -1.5');
  has('# TYPE http_server_request_duration_seconds histogram');
  has('http_server_request_duration_seconds_bucket{cluster="c1",http_route="/x",le="0.1"} 1');
  has('http_server_request_duration_seconds_bucket{cluster="c1",http_route="/x",le="0.5"} 3');
  has('http_server_request_duration_seconds_bucket{cluster="c1",http_route="/x",le="+Inf"} 6');
  has('http_server_request_duration_seconds_sum{cluster="c1",http_route="/x"} 1.25');
  has('http_server_request_duration_seconds_count{cluster="c1",http_route="/x"} 6');
  has('rpc_latency{cluster="c1",quantile="0.99"} 0.9');
  has('rpc_latency_count{cluster="c1"} 4');
  assert.ok(!text.includes('exp'), 'exponential histograms are not rendered');
  assert.equal(svc.telemetry.total('exporter_unsupported_points', { type: 'exponential_histogram' }), 1);
  assert.equal((await fetch(`http://127.0.0.1:${exp.port}/other`)).status, 404);
});

const gauge = (name: string, route: string, v: number): Metric => ({ name, gauge: { dataPoints: [{ attributes: [attr('route', route)], timeUnixNano: now, asDouble: v }] } });

test('metric_expiration: a series not updated for longer is dropped, its family too; new data brings it back', async (t) => {
  const svc = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
exporters: { prometheus/expiring: { endpoint: "127.0.0.1:0", metric_expiration: 2s }, prometheus/default: { endpoint: "127.0.0.1:0" } }
service: { pipelines: { metrics: { receivers: [otlp], exporters: [prometheus/expiring, prometheus/default] } } }
`);
  services.push(svc);
  const exp = svc.component('exporter', 'prometheus/expiring') as unknown as PrometheusExporter & AnyConsumer;
  const def = svc.component('exporter', 'prometheus/default') as unknown as PrometheusExporter & AnyConsumer;
  t.mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_000 });
  await exp.consumeMetrics!(wrap([gauge('queue.depth', '/a', 1), gauge('pool.size', '/x', 7)]));
  await def.consumeMetrics!(wrap([gauge('queue.depth', '/a', 1)]));
  t.mock.timers.tick(1500);
  await exp.consumeMetrics!(wrap([gauge('queue.depth', '/b', 2)]));
  assert.match(exp.render(), /queue_depth\{route="\/a"\} 1/, 'still within 2s');
  t.mock.timers.tick(1000); // /a and pool.size: 2.5s old; /b: 1s
  let text = exp.render();
  assert.doesNotMatch(text, /route="\/a"/);
  assert.match(text, /queue_depth\{route="\/b"\} 2/);
  assert.doesNotMatch(text, /pool_size/, 'a family with no series left is not rendered at all, not even # TYPE');
  t.mock.timers.tick(1500);
  assert.equal(exp.render(), '', 'everything expired');
  await exp.consumeMetrics!(wrap([gauge('queue.depth', '/a', 3)]));
  assert.match(exp.render(), /^# TYPE queue_depth gauge\nqueue_depth\{route="\/a"\} 3\n$/);
  // The default is 5 minutes.
  t.mock.timers.tick(5 * 60_000 - 4000 - 1); // the default exporter's series is 5m − 1ms old
  assert.match(def.render(), /queue_depth\{route="\/a"\} 1/);
  t.mock.timers.tick(2);
  assert.equal(def.render(), '');
});

test('add_metric_suffixes: false keeps the OTLP names (no unit word, no _total); namespace still applies', async () => {
  const svc = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
exporters:
  prometheus/plain: { endpoint: "127.0.0.1:0", add_metric_suffixes: false, namespace: sockeye }
  prometheus/suffixed: { endpoint: "127.0.0.1:0" }
service: { pipelines: { metrics: { receivers: [otlp], exporters: [prometheus/plain, prometheus/suffixed] } } }
`);
  services.push(svc);
  const metrics = wrap([
    { name: 'http.server.request.duration', unit: 's', histogram: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [
      { attributes: [], timeUnixNano: now, count: 1, sum: 0.2, bucketCounts: [0, 1], explicitBounds: [0.1] },
    ] } },
    { name: 'bytes.sent', unit: 'By', sum: { aggregationTemporality: AggregationTemporality.CUMULATIVE, isMonotonic: true, dataPoints: [{ attributes: [], timeUnixNano: now, asInt: 42 }] } },
    { name: 'requests', unit: '{request}', sum: { aggregationTemporality: AggregationTemporality.CUMULATIVE, isMonotonic: true, dataPoints: [{ attributes: [], timeUnixNano: now, asInt: 5 }] } },
  ]);
  const plain = svc.component('exporter', 'prometheus/plain') as unknown as PrometheusExporter & AnyConsumer;
  const suffixed = svc.component('exporter', 'prometheus/suffixed') as unknown as PrometheusExporter & AnyConsumer;
  await plain.consumeMetrics!(metrics);
  await suffixed.consumeMetrics!(metrics);
  const lines = (await (await fetch(`http://127.0.0.1:${plain.port}/metrics`)).text()).split('\n');
  for (const l of ['# TYPE sockeye_http_server_request_duration histogram', 'sockeye_http_server_request_duration_bucket{le="0.1"} 0',
    'sockeye_http_server_request_duration_count 1', '# TYPE sockeye_bytes_sent counter', 'sockeye_bytes_sent 42', '# TYPE sockeye_requests counter', 'sockeye_requests 5']) {
    assert.ok(lines.includes(l), `missing line: ${l}\n---\n${lines.join('\n')}`);
  }
  assert.ok(!lines.some((l) => /_seconds|sent_bytes|_total/.test(l)), lines.join('\n'));
  const other = suffixed.render().split('\n');
  for (const l of ['http_server_request_duration_seconds_count 1', 'bytes_sent_bytes_total 42', 'requests_total 5']) assert.ok(other.includes(l), `default adds suffixes: ${l}`);
});
