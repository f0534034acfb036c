// The NAT path from kernel to collector, minus eBPF capture (the agent wiring of the watcher is
// engineer S's; see docs/nat.md for the full end-to-end plan): real namespaces where a node DNATs a
// Service VIP to a backend pod the way kube-proxy does, 200 real short TCP connections, the agent's
// ConntrackWatcher in the node namespace, span attributes built by the agent's addNatPeer from each
// connection's socket tuple, sent with the OpenTelemetry JS SDK's OTLP exporter into a collector
// running nat + k8s_attributes against the API test server (a stand-in for the Kubernetes API).
import { test as baseTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector, receiverPorts, waitFor } from '../../helpers/collector-harness.js';
import { fixtureApiServer, sendSpans, capturedSpans, under, type SpanSpec } from '../../helpers/k8s-test-helpers.js';
import { PATHS, type K8sApiTestServer } from '../../helpers/k8s-api-test-server.js';
import type { Service } from '../../../../otel-collector/service/service.js';
import { ConntrackWatcher } from '../../../../agent/conntrack/conntrack-watcher.js';
import { addNatPeer } from '../../../../agent/conntrack/nat-span-attributes.js';
import {
  NodeTopology, netnsUnavailable, CLIENT_IP, SERVER_IP, VIP, VIP_PORT, TCP_ECHO_SERVER, SHORT_CONNECTIONS_CLIENT,
} from '../../../conntrack/helpers/netns-node-topology.js';

const skip = netnsUnavailable();
const test = (name: string, fn: () => Promise<void> | void) => baseTest(name, { skip }, fn);
const topo = new NodeTopology();
let api: K8sApiTestServer;
let svc: Service;
let watcher: ConntrackWatcher | undefined;

before(async () => {
  if (skip) return;
  topo.create();
  await topo.startDaemon(topo.server, TCP_ECHO_SERVER);
  api = await fixtureApiServer();
  // The backend pod behind the fixture's `checkout` Service (ClusterIP = the VIP the node DNATs).
  api.add(PATHS.pods, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'checkout-7d9f6-backend', namespace: 'shop', uid: 'uid-backend', creationTimestamp: '2026-11-22T00:00:00Z',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'checkout-7d9f6', uid: 'u', controller: true }] },
    spec: { nodeName: 'node-a' }, status: { phase: 'Running', podIP: SERVER_IP, podIPs: [{ ip: SERVER_IP }] },
  });
  svc = await startCollector(`
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" } } } }
processors:
  nat: { kubeconfig: ${api.writeKubeconfig()} }
  k8s_attributes: { kubeconfig: ${api.writeKubeconfig()} }
exporters: { capture/nat: {} }
service: { pipelines: { traces: { receivers: [otlp], processors: [nat, k8s_attributes], exporters: [capture/nat] } } }
`);
});
after(async () => {
  watcher?.close();
  topo.destroy();
  await svc?.shutdown();
  await api?.stop();
});

test('200 short connections to a Service VIP end as client spans naming the backend pod and the Service', async () => {
  watcher = await ConntrackWatcher.start({ netnsPath: topo.nodeNetnsPath });
  const conns = JSON.parse(await topo.run(topo.client, SHORT_CONNECTIONS_CLIENT, [VIP, String(VIP_PORT), '200'])) as { port: number; ms: number }[];
  assert.equal(conns.length, 200);
  const w = watcher;
  const specs: SpanSpec[] = conns.map((c, i) => ({ name: `GET ${i}`, kind: 'client', attributes: { 'server.address': VIP, 'server.port': VIP_PORT, 'network.peer.address': VIP } }));
  const tuple = (port: number) => ({ family: 4 as const, transport: 'tcp' as const, localAddr: CLIENT_IP, localPort: port, remoteAddr: VIP, remotePort: VIP_PORT });
  await waitFor(() => conns.every((c) => w.lookup({ localAddress: CLIENT_IP, localPort: c.port, remoteAddress: VIP, remotePort: VIP_PORT })), 2000, 'conntrack events');
  conns.forEach((c, i) => assert.ok(addNatPeer(w, tuple(c.port), specs[i]!.attributes), `connection ${i} resolved`));
  await sendSpans(receiverPorts(svc).grpc, {}, specs);
  await waitFor(() => capturedSpans('capture/nat').length >= 200, 10_000, '200 spans');
  for (const s of capturedSpans('capture/nat')) {
    const peer = under(s.attrs, 'sockeye.peer.');
    assert.equal(peer['k8s.pod.name'], 'checkout-7d9f6-backend', s.name);
    assert.equal(peer['k8s.service.name'], 'checkout');
    assert.equal(peer['k8s.deployment.name'], 'checkout');
    assert.equal(s.attrs['server.address'], VIP);
  }
  assert.equal(svc.telemetry.total('nat_resolutions', { result: 'pod' }), 200);
});
