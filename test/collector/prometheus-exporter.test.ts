// exporter `prometheus` text output for each OTLP metric kind: names (unit words, _total),
// cumulative replace vs delta accumulate, histogram buckets made cumulative, summaries, label
// escaping, const labels, and what it cannot represent being counted. Scraped over HTTP.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector } from './helpers/collector-harness.js';
import type { Service } from '../../otel-collector/service/service.js';
import type { PrometheusExporter } from '../../otel-collector/exporters/prometheus/prometheus-exporter.js';
import type { AnyConsumer } from '../../otel-collector/component/consumer.js';
import { AggregationTemporality, type Metrics, type Metric } from '../../otel-collector/pdata/index.js';
import { prometheusName } from '../../otel-collector/exporters/prometheus/prometheus-naming.js';

const services: Service[] = [];
after(async () => { for (const s of services) await s.shutdown(); });

const now = { low: 0, high: 0x17a00000, unsigned: true };
const wrap = (metrics: Metric[]): Metrics => ({ resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] }, scopeMetrics: [{ metrics }] }] });
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
