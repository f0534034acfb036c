// k8s_attributes end to end: the API test server (standing in for the Kubernetes API server, which
// cannot run here; it speaks the real list/watch protocol) serves a fixture cluster to
// @kubernetes/client-node informers; real spans from the OpenTelemetry JS SDK's OTLP/gRPC exporter go
// through the collector's otlp receiver and come out with both ends named.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startCollector, receiverPorts, captured, waitFor } from '../../helpers/collector-harness.js';
import { fixtureApiServer, k8sCollectorYaml, sendSpans, capturedSpans, under, type OutSpan } from '../../helpers/k8s-test-helpers.js';
import { PATHS, type K8sApiTestServer } from '../../helpers/k8s-api-test-server.js';
import type { Service } from '../../../../otel-collector/service/service.js';

let api: K8sApiTestServer;
let svc: Service;
let grpc = 0;

before(async () => {
  api = await fixtureApiServer();
  svc = await startCollector(k8sCollectorYaml(api, 'traces', 'page_size: 2'));
  grpc = receiverPorts(svc).grpc;
});
after(async () => { await svc?.shutdown(); await api?.stop(); });
beforeEach(() => { captured.get('capture')!.length = 0; });

async function roundTrip(resource: Record<string, string>, peers: Record<string, Record<string, string>>): Promise<Map<string, OutSpan>> {
  const specs = Object.entries(peers).map(([name, attributes]) => ({ name, kind: name.startsWith('srv') ? 'server' as const : 'client' as const, attributes }));
  await sendSpans(grpc, resource, specs);
  await waitFor(() => capturedSpans('capture').length >= specs.length, 5000, 'enriched spans');
  return new Map(capturedSpans('capture').map((s) => [s.name, s]));
}

test('local end from k8s.pod.uid and peers by IP: pod with owners, Service ClusterIP, node, external', async () => {
  const out = await roundTrip({ 'k8s.pod.uid': 'uid-checkout-7d9f6-abcde' }, {
    'to-db': { 'network.peer.address': '198.18.10.20', 'server.address': 'db' },
    'to-service': { 'server.address': '198.18.100.10', 'server.port': '80' },
    'to-node': { 'network.peer.address': '198.18.0.11' },
    'to-outside': { 'server.address': '198.19.255.1' },
    'to-name': { 'server.address': 'api.example.test' },
    'srv-from-cron': { 'client.address': '198.18.10.40' },
    'to-daemon': { 'network.peer.address': '::ffff:198.18.10.30' },
  });
  const local = out.get('to-db')!.resource;
  assert.equal(local['k8s.pod.name'], 'checkout-7d9f6-abcde');
  assert.equal(local['k8s.namespace.name'], 'shop');
  assert.equal(local['k8s.node.name'], 'node-a');
  assert.equal(local['k8s.replicaset.name'], 'checkout-7d9f6');
  assert.equal(local['k8s.deployment.name'], 'checkout');

  assert.deepEqual(under(out.get('to-db')!.attrs, 'sockeye.peer.'), {
    kind: 'pod', 'k8s.pod.name': 'db-0', 'k8s.pod.uid': 'uid-db-0', 'k8s.namespace.name': 'shop',
    'k8s.node.name': 'node-b', 'k8s.statefulset.name': 'db',
  });
  assert.deepEqual(under(out.get('to-service')!.attrs, 'sockeye.peer.'), { kind: 'service', 'k8s.service.name': 'checkout', 'k8s.namespace.name': 'shop' });
  // 198.18.0.11 is also the IP of a host-network pod: it names the node, not that pod.
  assert.deepEqual(under(out.get('to-node')!.attrs, 'sockeye.peer.'), { kind: 'node', 'k8s.node.name': 'node-a' });
  assert.deepEqual(under(out.get('to-outside')!.attrs, 'sockeye.peer.'), { kind: 'external' });
  assert.deepEqual(under(out.get('to-name')!.attrs, 'sockeye.peer.'), {}, 'host names are not guessed at');
  const cron = under(out.get('srv-from-cron')!.attrs, 'sockeye.peer.');
  assert.equal(cron['k8s.job.name'], 'report-29001');
  assert.equal(cron['k8s.cronjob.name'], 'report');
  assert.equal(under(out.get('to-daemon')!.attrs, 'sockeye.peer.')['k8s.daemonset.name'], 'log-agent');
  assert.equal(out.get('to-db')!.attrs['server.address'], 'db', 'original attributes stay');
});

test('local end from container.id (with or without the runtime prefix); sender-set keys win', async () => {
  const out = await roundTrip({ 'container.id': 'a'.repeat(64), 'k8s.namespace.name': 'set-by-agent' }, { 'x': {} });
  const r = out.get('x')!.resource;
  assert.equal(r['k8s.pod.name'], 'checkout-7d9f6-abcde');
  assert.equal(r['k8s.namespace.name'], 'set-by-agent');
  captured.get('capture')!.length = 0;
  const out2 = await roundTrip({ 'container.id': `containerd://${'a'.repeat(64)}` }, { 'y': {} });
  assert.equal(out2.get('y')!.resource['k8s.pod.uid'], 'uid-checkout-7d9f6-abcde');
});

test('watch events: a deleted pod\'s IP reused by a new pod maps to the new pod, in either event order', async () => {
  const pod = (name: string, ip: string, created: string) => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, creationTimestamp: created, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'cache', uid: 'u', controller: true }] },
    spec: { nodeName: 'node-a' }, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
  });
  // New pod first, then the old one's deletion (the usual order when a controller replaces a pod).
  api.add(PATHS.pods, pod('cache-new', '198.18.10.20', '2026-11-22T00:00:00Z'));
  api.remove(PATHS.pods, 'db-0', 'shop');
  const peerName = async (ip: string) => {
    captured.get('capture')!.length = 0;
    const out = await roundTrip({}, { p: { 'network.peer.address': ip } });
    return out.get('p')!.attrs['sockeye.peer.k8s.pod.name'];
  };
  let name: string | undefined;
  for (let i = 0; i < 50 && name !== 'cache-new'; i++) { name = await peerName('198.18.10.20'); if (name !== 'cache-new') await new Promise((r) => setTimeout(r, 50)); }
  assert.equal(name, 'cache-new');
  // Old pod's late status update (terminating) must not take the IP back.
  api.update(PATHS.pods, { ...pod('db-0', '198.18.10.20', '2026-11-01T10:00:00Z'), metadata: { ...pod('db-0', '', '2026-11-01T10:00:00Z').metadata, deletionTimestamp: '2026-11-22T00:00:01Z' } });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await peerName('198.18.10.20'), 'cache-new');
  // Delete first, then a new pod with the IP.
  api.remove(PATHS.pods, 'db-0', 'shop');
  api.remove(PATHS.pods, 'report-29001-q2w3e', 'shop');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await peerName('198.18.10.40'), undefined, 'a deleted pod no longer names its IP');
  api.add(PATHS.pods, pod('report-29002-zzzzz', '198.18.10.40', '2026-11-22T00:01:00Z'));
  let n: string | undefined;
  for (let i = 0; i < 50 && n !== 'report-29002-zzzzz'; i++) { n = await peerName('198.18.10.40'); if (!n) await new Promise((r) => setTimeout(r, 50)); }
  assert.equal(n, 'report-29002-zzzzz');
});

test('410 Gone after compaction: the informer relists and sees changes made while it was away', async () => {
  const listsBefore = api.count(`list ${PATHS.services}`);
  await api.stop();
  // While the client is cut off, a Service is added and history is compacted past its version.
  api.add(PATHS.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'payments', namespace: 'shop', uid: 'uid-payments' }, spec: { clusterIP: '198.18.100.20', clusterIPs: ['198.18.100.20'] } } as never);
  api.compact();
  await api.start(api.port);
  await waitFor(() => api.count(`gone ${PATHS.services}`) > 0, 15_000, 'a watch refused with 410');
  await waitFor(() => api.count(`list ${PATHS.services}`) > listsBefore, 15_000, 'a relist');
  let kind: string | undefined;
  for (let i = 0; i < 100 && kind !== 'service'; i++) {
    captured.get('capture')!.length = 0;
    const out = await roundTrip({}, { s: { 'server.address': '198.18.100.20' } });
    kind = out.get('s')!.attrs['sockeye.peer.kind'];
    if (kind !== 'service') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(kind, 'service');
});

test('API server outage: enrichment continues from the cache, and new objects appear once it returns', async () => {
  await api.stop();
  const during = await roundTrip({ 'k8s.pod.uid': 'uid-checkout-7d9f6-fghij' }, { d: { 'network.peer.address': '198.18.10.11' } });
  assert.equal(during.get('d')!.resource['k8s.deployment.name'], 'checkout');
  assert.equal(during.get('d')!.attrs['sockeye.peer.k8s.pod.name'], 'checkout-7d9f6-fghij');
  api.add(PATHS.pods, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'late-pod', namespace: 'shop', uid: 'uid-late-pod', creationTimestamp: '2026-11-22T01:00:00Z' },
    spec: { nodeName: 'node-b' }, status: { phase: 'Running', podIP: '198.18.10.99', podIPs: [{ ip: '198.18.10.99' }] },
  } as never);
  await new Promise((r) => setTimeout(r, 300));
  await api.start(api.port);
  let name: string | undefined;
  for (let i = 0; i < 150 && name !== 'late-pod'; i++) {
    captured.get('capture')!.length = 0;
    const out = await roundTrip({}, { l: { 'network.peer.address': '198.18.10.99' } });
    name = out.get('l')!.attrs['sockeye.peer.k8s.pod.name'];
    if (name !== 'late-pod') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(name, 'late-pod');
  const t = svc.telemetry;
  assert.ok(t.total('k8s_peer_lookups', { result: 'pod' }) > 0);
});
