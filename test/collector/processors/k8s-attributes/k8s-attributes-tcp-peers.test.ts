// k8s_attributes on the agent's TCP network-health metrics: points carrying a peer address
// (server.address on the connecting side, client.address on the accepting side) get the peer's
// identity under sockeye.peer.* exactly as spans do (pod, Service, node or external). Real parts:
// the agent's TcpMetrics with the SDK's OTLP/gRPC metric exporter → the collector loaded from YAML
// → the faithful Kubernetes list/watch test server with the fixture cluster.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector, receiverPorts, captured, waitFor } from '../../helpers/collector-harness.js';
import { fixtureApiServer, k8sCollectorYaml } from '../../helpers/k8s-test-helpers.js';
import type { K8sApiTestServer } from '../../helpers/k8s-api-test-server.js';
import type { Service } from '../../../../otel-collector/service/service.js';
import type { Metrics } from '../../../../otel-collector/pdata/types.js';
import { TcpMetrics, TCP_METRIC } from '../../../../agent/network-health/tcp-metrics.js';
import { createMetricExporter } from '../../../../agent/export/otlp-exporters.js';
import { TelemetryRegistry } from '../../../../common/telemetry/telemetry-registry.js';
import { anyValue } from '../../../signals/helpers/otlp-test-receiver.js';

let api: K8sApiTestServer;
let svc: Service;

before(async () => {
  api = await fixtureApiServer();
  svc = await startCollector(k8sCollectorYaml(api, 'metrics'));
});
after(async () => { await svc?.shutdown(); await api?.stop(); });

type Point = { metric: string; service: string; attrs: Record<string, unknown> };

function points(): Point[] {
  const out: Point[] = [];
  for (const c of captured.get('capture') ?? []) {
    for (const rm of (c.data as Metrics).resourceMetrics) {
      const service = String(rm.resource?.attributes.find((kv) => kv.key === 'service.name')?.value?.stringValue);
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
          for (const p of m.sum?.dataPoints ?? m.histogram?.dataPoints ?? []) {
            out.push({ metric: m.name, service, attrs: Object.fromEntries(p.attributes.map((kv) => [kv.key, anyValue(kv.value)])) });
          }
        }
      }
    }
  }
  return out;
}

test('TCP metric peers get pod, Service, node or external identity; _OTHER and the local resource are left as they were', async () => {
  const endpoint = `http://127.0.0.1:${receiverPorts(svc).grpc}`;
  const tcp = new TcpMetrics({ telemetry: new TelemetryRegistry(), exporter: createMetricExporter({ protocol: 'grpc', endpoint, timeoutMs: 3000 }), exportIntervalMs: 60_000 });
  const client = { 'sockeye.tcp.role': 'client' };
  tcp.record('checkout', 'uid-checkout-7d9f6-abcde', TCP_METRIC.connectDuration, { 'server.address': '198.18.10.20', 'server.port': 5432 }, 0.001); // db-0
  tcp.record('checkout', 'uid-checkout-7d9f6-abcde', TCP_METRIC.resets, { ...client, 'server.address': '198.18.100.10', 'server.port': 80, 'sockeye.tcp.reset.direction': 'received' }); // Service checkout
  tcp.record('checkout', 'uid-checkout-7d9f6-abcde', TCP_METRIC.retransmits, { ...client, 'server.address': '198.18.0.12', 'server.port': 10250, 'sockeye.tcp.retransmit.kind': 'data' }); // node-b
  tcp.record('checkout', 'uid-checkout-7d9f6-abcde', TCP_METRIC.connectDuration, { 'server.address': '203.0.113.7', 'server.port': 443, 'error.type': 'timeout' }, 3);
  tcp.record('checkout', 'uid-checkout-7d9f6-abcde', TCP_METRIC.connectDuration, { 'server.address': '_OTHER' }, 0.002);
  tcp.record('db', undefined, TCP_METRIC.connections, { 'sockeye.tcp.role': 'server', 'client.address': '198.18.10.11', 'server.port': 5432, 'sockeye.tcp.connection.event': 'opened' });
  await tcp.exportNow();
  await tcp.shutdown();
  await waitFor(() => points().length >= 6, 5000, 'TCP metrics through the collector');
  const at = (metric: string, addr: string) => points().find((p) => p.metric === metric && (p.attrs['server.address'] === addr || p.attrs['client.address'] === addr))!;

  const db = at(TCP_METRIC.connectDuration, '198.18.10.20');
  assert.equal(db.attrs['sockeye.peer.kind'], 'pod');
  assert.equal(db.attrs['sockeye.peer.k8s.pod.name'], 'db-0');
  assert.equal(db.attrs['sockeye.peer.k8s.namespace.name'], 'shop');
  assert.equal(db.attrs['server.port'], 5432, 'the point keeps its own labels');

  const service = at(TCP_METRIC.resets, '198.18.100.10');
  assert.equal(service.attrs['sockeye.peer.kind'], 'service');
  assert.equal(service.attrs['sockeye.peer.k8s.service.name'], 'checkout');

  const node = at(TCP_METRIC.retransmits, '198.18.0.12');
  assert.equal(node.attrs['sockeye.peer.kind'], 'node');
  assert.equal(node.attrs['sockeye.peer.k8s.node.name'], 'node-b');

  assert.equal(at(TCP_METRIC.connectDuration, '203.0.113.7').attrs['sockeye.peer.kind'], 'external');
  const other = at(TCP_METRIC.connectDuration, '_OTHER');
  assert.equal(other.attrs['sockeye.peer.kind'], undefined, 'the overflow peer is not an address');

  const accepted = at(TCP_METRIC.connections, '198.18.10.11');
  assert.equal(accepted.attrs['sockeye.peer.kind'], 'pod', 'the accepting side: the client is the peer');
  assert.equal(accepted.attrs['sockeye.peer.k8s.pod.name'], 'checkout-7d9f6-fghij');
  assert.equal(accepted.attrs['sockeye.peer.k8s.deployment.name'], 'checkout');
});
