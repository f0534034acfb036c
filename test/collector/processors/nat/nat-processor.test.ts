// nat processor: client spans whose agent saw a DNAT (sockeye.nat.peer.address) name the backend pod
// the connection really reached and keep the Service the client dialed; spans without it pass
// unchanged. Metadata comes from the API test server (a stand-in for the Kubernetes API server,
// speaking its list/watch protocol); spans from the OpenTelemetry JS SDK's OTLP/gRPC exporter.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector, receiverPorts, captured, waitFor } from '../../helpers/collector-harness.js';
import { fixtureApiServer, sendSpans, capturedSpans, under, type SpanSpec } from '../../helpers/k8s-test-helpers.js';
import type { K8sApiTestServer } from '../../helpers/k8s-api-test-server.js';
import type { Service } from '../../../../otel-collector/service/service.js';

let api: K8sApiTestServer;
const services: Service[] = [];

before(async () => { api = await fixtureApiServer(); });
after(async () => { for (const s of services) await s.shutdown(); await api?.stop(); });
beforeEach(() => { for (const l of captured.values()) l.length = 0; });

async function collector(order: string): Promise<number> {
  const kc = api.writeKubeconfig();
  const svc = await startCollector(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
processors:
  nat: { kubeconfig: ${kc} }
  k8s_attributes: { kubeconfig: ${kc} }
exporters:
  capture: {}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [${order}], exporters: [capture] }
`);
  services.push(svc);
  return receiverPorts(svc).grpc;
}

const VIP = '198.18.100.10';
const SPANS: SpanSpec[] = [
  { name: 'via-vip', kind: 'client', attributes: { 'server.address': VIP, 'server.port': 80, 'network.peer.address': VIP, 'sockeye.nat.peer.address': '198.18.10.11', 'sockeye.nat.peer.port': 8080 } },
  { name: 'direct', kind: 'client', attributes: { 'server.address': '198.18.10.10', 'server.port': 8080, 'network.peer.address': '198.18.10.10' } },
  { name: 'vip-no-nat', kind: 'client', attributes: { 'server.address': VIP, 'server.port': 80 } },
  { name: 'nat-to-unknown', kind: 'client', attributes: { 'server.address': VIP, 'sockeye.nat.peer.address': '198.19.0.7', 'sockeye.nat.peer.port': 9 } },
];

for (const order of ['nat, k8s_attributes', 'k8s_attributes, nat']) {
  test(`processors [${order}]: NATed spans name the backend pod and the Service; others are resolved as dialed`, async () => {
    const grpc = await collector(order);
    await sendSpans(grpc, {}, SPANS);
    await waitFor(() => capturedSpans('capture').length >= SPANS.length, 5000, 'spans');
    const out = new Map(capturedSpans('capture').map((s) => [s.name, s]));
    const via = out.get('via-vip')!;
    assert.deepEqual(under(via.attrs, 'sockeye.peer.'), {
      kind: 'pod', 'k8s.service.name': 'checkout', 'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'checkout-7d9f6-fghij', 'k8s.pod.uid': 'uid-checkout-7d9f6-fghij', 'k8s.node.name': 'node-b',
      'k8s.replicaset.name': 'checkout-7d9f6', 'k8s.deployment.name': 'checkout',
    });
    assert.equal(via.attrs['server.address'], VIP, 'the dialed address stays');
    assert.equal(via.attrs['network.peer.address'], VIP);
    assert.equal(under(out.get('direct')!.attrs, 'sockeye.peer.')['k8s.pod.name'], 'checkout-7d9f6-abcde');
    assert.deepEqual(under(out.get('vip-no-nat')!.attrs, 'sockeye.peer.'), { kind: 'service', 'k8s.service.name': 'checkout', 'k8s.namespace.name': 'shop' });
    const unk = under(out.get('nat-to-unknown')!.attrs, 'sockeye.peer.');
    assert.equal(unk.kind, 'external');
    assert.equal(unk['k8s.service.name'], 'checkout');
    const t = services.at(-1)!.telemetry;
    assert.equal(t.total('nat_resolutions', { result: 'pod' }), 1);
    assert.equal(t.total('nat_resolutions', { result: 'unknown_backend' }), 1);
  });
}

test('nat alone leaves spans without a translation exactly as they came', async () => {
  const kc = api.writeKubeconfig();
  const svc = await startCollector(`
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" } } } }
processors: { nat: { kubeconfig: ${kc} } }
exporters: { capture/plain: {} }
service: { pipelines: { traces: { receivers: [otlp], processors: [nat], exporters: [capture/plain] } } }
`);
  services.push(svc);
  await sendSpans(receiverPorts(svc).grpc, {}, [SPANS[1]!, SPANS[2]!]);
  await waitFor(() => capturedSpans('capture/plain').length >= 2, 5000, 'spans');
  for (const s of capturedSpans('capture/plain')) assert.deepEqual(under(s.attrs, 'sockeye.'), {});
});
