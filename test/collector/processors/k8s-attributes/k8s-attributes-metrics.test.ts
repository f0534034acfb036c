// k8s_attributes on metrics: the agent's RED histograms (our aggregation, the SDK's real OTLP/gRPC
// metric exporter) carry k8s.pod.uid on their resource; through the collector's otlp receiver and
// k8s_attributes they come out with the pod's namespace, name, node and owner. The Kubernetes API
// is the faithful list/watch test server (no real API server can run here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector, receiverPorts, captured, waitFor } from '../../helpers/collector-harness.js';
import { fixtureApiServer, k8sCollectorYaml } from '../../helpers/k8s-test-helpers.js';
import type { K8sApiTestServer } from '../../helpers/k8s-api-test-server.js';
import type { Service } from '../../../../otel-collector/service/service.js';
import type { Metrics } from '../../../../otel-collector/pdata/types.js';
import { RedMetrics } from '../../../../agent/signals/red-metrics.js';
import { createMetricExporter } from '../../../../agent/export/otlp-exporters.js';
import { TelemetryRegistry } from '../../../../common/telemetry/telemetry-registry.js';
import { METRIC } from '../../../../common/semconv/semconv.js';

let api: K8sApiTestServer;
let svc: Service;

before(async () => {
  api = await fixtureApiServer();
  svc = await startCollector(k8sCollectorYaml(api, 'metrics'));
});
after(async () => { await svc?.shutdown(); await api?.stop(); });

test('RED metric resources with k8s.pod.uid get namespace, pod, node and owner; without a pod uid they pass unchanged', async () => {
  const endpoint = `http://127.0.0.1:${receiverPorts(svc).grpc}`;
  const red = new RedMetrics({ telemetry: new TelemetryRegistry(), exporter: createMetricExporter({ protocol: 'grpc', endpoint, timeoutMs: 3000 }), exportIntervalMs: 60_000 });
  const rec = { name: METRIC.httpServer, seconds: 0.02, attributes: { 'http.request.method': 'GET', 'http.route': '/cart', 'http.response.status_code': 200 } };
  red.record('checkout', rec, 'uid-checkout-7d9f6-abcde');
  red.record('checkout', rec);
  await red.forceFlush();
  await red.shutdown();
  const resources = () => (captured.get('capture') ?? []).flatMap((c) => (c.data as Metrics).resourceMetrics)
    .map((rm) => Object.fromEntries((rm.resource?.attributes ?? []).map((kv) => [kv.key, kv.value?.stringValue])));
  await waitFor(() => resources().length >= 2, 5000, 'metrics through the collector');
  const withPod = resources().find((r) => r['k8s.pod.uid'] === 'uid-checkout-7d9f6-abcde')!;
  assert.ok(withPod, JSON.stringify(resources()));
  assert.equal(withPod['service.name'], 'checkout');
  assert.equal(withPod['k8s.namespace.name'], 'shop');
  assert.equal(withPod['k8s.pod.name'], 'checkout-7d9f6-abcde');
  assert.equal(withPod['k8s.node.name'], 'node-a');
  assert.equal(withPod['k8s.deployment.name'], 'checkout');
  const without = resources().find((r) => r['k8s.pod.uid'] === undefined)!;
  assert.equal(without['service.name'], 'checkout');
  assert.equal(without['k8s.namespace.name'], undefined);
});
