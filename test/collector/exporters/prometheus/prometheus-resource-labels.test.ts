// exporter `prometheus` keeps series of different services and pods apart by default: job from
// service.namespace/service.name, instance from service.instance.id or k8s.pod.uid, target_info
// for the rest, k8s namespace/pod/workload promoted, never process.pid or process.command.
// Real OTel SDK MeterProviders (one per service and pod) export over OTLP/HTTP to the collector's
// receiver; the exporter is scraped over HTTP.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { startCollector, receiverPorts } from '../../helpers/collector-harness.js';
import type { Service } from '../../../../otel-collector/service/service.js';
import type { PrometheusExporter } from '../../../../otel-collector/exporters/prometheus/prometheus-exporter.js';

const services: Service[] = [];
after(async () => { for (const s of services) await s.shutdown(); });

const collector = async (exporter: string) => {
  const svc = await startCollector(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
exporters: { prometheus: ${exporter} }
service: { pipelines: { metrics: { receivers: [otlp], exporters: [prometheus] } } }
`);
  services.push(svc);
  return { svc, prom: svc.component('exporter', 'prometheus') as unknown as PrometheusExporter, url: `http://127.0.0.1:${receiverPorts(svc).http}/v1/metrics` };
};

/** One process in one pod, as the k8s_attributes processor leaves its resource. */
const pod = (service: string, uid: string, pid: number, extra: Record<string, string> = {}) => ({
  'service.name': service, 'k8s.pod.uid': uid, 'k8s.pod.name': `${service}-7d9f-${uid.slice(0, 5)}`,
  'k8s.namespace.name': 'shop', 'k8s.deployment.name': service, 'k8s.replicaset.name': `${service}-7d9f`,
  'host.name': 'node-1', 'process.pid': pid, 'process.command': `/usr/bin/${service}`, ...extra,
});

/** What the SDK sends for `count` requests from a process with this resource (cumulative). */
async function send(url: string, resource: Record<string, string | number>, count: number): Promise<void> {
  const mp = new MeterProvider({ resource: resourceFromAttributes(resource),
    readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url }), exportIntervalMillis: 60_000 })] });
  mp.getMeter('t').createCounter('http.server.requests').add(count, { 'http.route': '/api' });
  await mp.forceFlush();
  await mp.shutdown();
}

const scrape = async (prom: PrometheusExporter) => (await (await fetch(`http://127.0.0.1:${prom.port}/metrics`)).text()).split('\n');
const series = (lines: string[], name: string) => lines.filter((l) => l.startsWith(`${name}{`));

test('two services and two pods sending the same metric stay apart on the scrape', async () => {
  const { prom, url } = await collector('{ endpoint: "127.0.0.1:0" }');
  await send(url, pod('checkout', 'aaaaaaaa-1', 101, { 'service.namespace': 'shop' }), 1000);
  await send(url, pod('checkout', 'bbbbbbbb-2', 102, { 'service.namespace': 'shop' }), 40);
  await send(url, pod('cart', 'cccccccc-3', 103, { 'service.instance.id': 'cart-0' }), 7);
  const lines = await scrape(prom);
  const text = lines.join('\n');
  const requests = series(lines, 'http_server_requests_total');
  assert.equal(requests.length, 3, text);
  const has = (l: string) => assert.ok(lines.includes(l), `missing line: ${l}\n---\n${text}`);
  has('http_server_requests_total{http_route="/api",instance="aaaaaaaa-1",job="shop/checkout",k8s_deployment_name="checkout",k8s_namespace_name="shop",k8s_pod_name="checkout-7d9f-aaaaa",service_name="checkout"} 1000');
  has('http_server_requests_total{http_route="/api",instance="bbbbbbbb-2",job="shop/checkout",k8s_deployment_name="checkout",k8s_namespace_name="shop",k8s_pod_name="checkout-7d9f-bbbbb",service_name="checkout"} 40');
  // service.instance.id wins over the pod uid; no service.namespace: job is the bare name.
  has('http_server_requests_total{http_route="/api",instance="cart-0",job="cart",k8s_deployment_name="cart",k8s_namespace_name="shop",k8s_pod_name="cart-7d9f-ccccc",service_name="cart"} 7');

  has('# TYPE target_info gauge');
  const info = series(lines, 'target_info');
  assert.equal(info.length, 3, text);
  assert.ok(info.includes('target_info{host_name="node-1",instance="cart-0",job="cart",k8s_deployment_name="cart",k8s_namespace_name="shop",k8s_pod_name="cart-7d9f-ccccc",k8s_pod_uid="cccccccc-3",k8s_replicaset_name="cart-7d9f"} 1'), info.join('\n'));
  assert.doesNotMatch(text, /process_pid|process_command|service_instance_id|service_namespace=/, 'restart-churning and job/instance attributes are neither labels nor in target_info');
});

test('a restarted process (new pid, same pod) continues its series and its target_info', async () => {
  const { prom, url } = await collector('{ endpoint: "127.0.0.1:0" }');
  await send(url, pod('checkout', 'aaaaaaaa-1', 101), 1000);
  await send(url, pod('checkout', 'aaaaaaaa-1', 202), 3); // restarted: cumulative count starts over
  const lines = await scrape(prom);
  assert.deepEqual(series(lines, 'http_server_requests_total').map((l) => l.split(' ').pop()), ['3'], lines.join('\n'));
  assert.equal(series(lines, 'target_info').length, 1, lines.join('\n'));
});

test('resource_to_telemetry_conversion keeps its Collector meaning: every resource attribute is a label', async () => {
  const { prom, url } = await collector('{ endpoint: "127.0.0.1:0", resource_to_telemetry_conversion: { enabled: true } }');
  await send(url, pod('checkout', 'aaaaaaaa-1', 101), 1000);
  const [line] = series(await scrape(prom), 'http_server_requests_total');
  for (const l of ['job="checkout"', 'instance="aaaaaaaa-1"', 'process_pid="101"', 'process_command="/usr/bin/checkout"', 'k8s_replicaset_name="checkout-7d9f"', 'host_name="node-1"', 'service_name="checkout"']) {
    assert.ok(line!.includes(l), `${l} in ${line}`);
  }
});

test('promote_resource_attributes chooses the promoted labels; restart-churning ones are refused', async () => {
  const { prom, url } = await collector('{ endpoint: "127.0.0.1:0", promote_resource_attributes: [k8s.namespace.name, host.name] }');
  await send(url, pod('checkout', 'aaaaaaaa-1', 101), 1000);
  assert.deepEqual(series(await scrape(prom), 'http_server_requests_total'),
    ['http_server_requests_total{host_name="node-1",http_route="/api",instance="aaaaaaaa-1",job="checkout",k8s_namespace_name="shop"} 1000']);
  await assert.rejects(collector('{ endpoint: "127.0.0.1:0", promote_resource_attributes: [service.name, process.pid] }'),
    /promote_resource_attributes.*1.*process\.pid changes on every process restart/);
});
