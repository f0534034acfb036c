// NAT resolution end to end, every part real except the Kubernetes API server: real network
// namespaces where a "node" DNATs a Service VIP to a backend pod in PREROUTING as kube-proxy does,
// a real Node http server in the backend namespace, 200 real short HTTP connections from the client
// namespace, the REAL agent process (eBPF capture + its conntrack watcher following the node
// namespace) exporting OTLP to a REAL collector process (otlp → nat → k8s_attributes → otlp_grpc)
// whose output lands in an OTLP receiver in this test. The Kubernetes API is the API test server
// (test/collector/helpers/k8s-api-test-server.ts), which stands in for the real API server and speaks its
// list/watch protocol; no API server can run here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OtlpTestReceiver, type FlatSpan } from '../../../signals/helpers/otlp-test-receiver.js';
import { AgentChild, freePort, kernelAgentUnavailable } from '../../../agent/helpers/agent-child.js';
import { fixtureApiServer } from '../../helpers/k8s-test-helpers.js';
import { PATHS, type K8sApiTestServer } from '../../helpers/k8s-api-test-server.js';
import { NodeTopology, netnsUnavailable, SERVER_IP, SERVER_PORT, VIP } from '../../../conntrack/helpers/netns-node-topology.js';

const skip = netnsUnavailable() ?? kernelAgentUnavailable();
const bin = fileURLToPath(new URL('../../../../../bin/sockeye.js', import.meta.url));
const CONNECTIONS = 200;
const CLIENT_KIND = 3;
const BACKEND_POD = 'checkout-7d9f6-backend';

/** The backend: a plain Node http server on 8080 in the server namespace. */
const HTTP_SERVER = `
import http from 'node:http';
http.createServer((req, res) => res.end('ok')).listen(${SERVER_PORT}, '0.0.0.0', () => console.log('listening'));
`;

/** N sequential requests, each on its own connection (no keep-alive); prints the local ports. */
const HTTP_CLIENT = `
import http from 'node:http';
const [url, n] = process.argv.slice(-2);
const ports = [];
for (let i = 0; i < Number(n); i++) {
  await new Promise((resolve, reject) => {
    const req = http.get(url + '?i=' + i, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('socket', (s) => s.on('connect', () => ports.push(s.localPort)));
    req.on('error', reject);
  });
}
console.log(JSON.stringify(ports));
`;

const topo = new NodeTopology();
const dir = mkdtempSync('/tmp/sockeye-nat-e2e-');
let api: K8sApiTestServer | undefined;
let rx: OtlpTestReceiver | undefined;
let collector: ChildProcess | undefined;
let collectorErr = '';
let agent: AgentChild | undefined;

async function startCollectorProcess(yaml: string, healthPort: number): Promise<ChildProcess> {
  writeFileSync(`${dir}/collector.yaml`, yaml);
  const p = spawn(process.execPath, [bin, 'collector', '--config', `${dir}/collector.yaml`], { stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr!.setEncoding('utf8').on('data', (d: string) => { collectorErr += d; });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (p.exitCode !== null) throw new Error(`collector exited ${p.exitCode}: ${collectorErr}`);
    try { if ((await fetch(`http://127.0.0.1:${healthPort}/`)).status === 200) return p; } catch { /* not up yet */ }
    if (Date.now() > deadline) { p.kill('SIGKILL'); throw new Error(`collector not healthy in 20 s: ${collectorErr}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  if (skip) return;
  topo.create();
  await topo.startDaemon(topo.server, HTTP_SERVER);
  api = await fixtureApiServer();
  // The backend pod behind the fixture's `checkout` Service, whose ClusterIP is the VIP the node DNATs.
  api.add(PATHS.pods, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: BACKEND_POD, namespace: 'shop', uid: 'uid-backend-e2e', creationTimestamp: '2026-11-22T00:00:00Z',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'checkout-7d9f6', uid: 'u', controller: true }] },
    spec: { nodeName: 'node-a' }, status: { phase: 'Running', podIP: SERVER_IP, podIPs: [{ ip: SERVER_IP }] },
  });
  rx = await OtlpTestReceiver.start();
  const [otlpPort, healthPort] = [await freePort(), await freePort()];
  const kubeconfig = api.writeKubeconfig();
  collector = await startCollectorProcess(`
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:${otlpPort}" } } } }
processors:
  nat: { kubeconfig: ${kubeconfig} }
  k8s_attributes: { kubeconfig: ${kubeconfig} }
exporters: { otlp_grpc: { endpoint: "${rx.grpcEndpoint.replace(/^http:\/\//, '')}", tls: { insecure: true } } }
extensions: { health_check: { endpoint: "127.0.0.1:${healthPort}" } }
service:
  extensions: [health_check]
  pipelines: { traces: { receivers: [otlp], processors: [nat, k8s_attributes], exporters: [otlp_grpc] } }
`, healthPort);
  // The collector's and this test's own OTLP traffic stay out of the capture (no feedback loop).
  agent = await AgentChild.start((listen) => [
    `listen: ${listen}`,
    'export:',
    `  endpoint: http://127.0.0.1:${otlpPort}`,
    '  metric_interval_ms: 600000',
    '  span_delay_ms: 100',
    'capture:',
    `  exclude_pids: [${collector!.pid}, ${process.pid}]`,
    'conntrack:',
    `  netns_path: ${topo.nodeNetnsPath}`,
    'live_view: off',
  ].join('\n'));
});

after(async () => {
  // Each step on its own: a failure in one must not leave namespaces or processes behind.
  try { await agent?.stop(); } catch { agent?.proc.kill('SIGKILL'); }
  if (collector && collector.exitCode === null) {
    collector.kill('SIGTERM');
    const t = setTimeout(() => collector!.kill('SIGKILL'), 10_000);
    await once(collector, 'exit');
    clearTimeout(t);
  }
  topo.destroy();
  await rx?.close().catch(() => {});
  await api?.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test(`${CONNECTIONS} short HTTP connections to a Service VIP become client spans naming the backend pod and the Service`, { skip }, async (t) => {
  assert.match(agent!.stderr, /NAT resolution on: following conntrack in \/run\/netns\//);
  const ports = JSON.parse(await topo.run(topo.client, HTTP_CLIENT, [`http://${VIP}/checkout`, String(CONNECTIONS)])) as number[];
  assert.equal(new Set(ports).size, CONNECTIONS, 'each request had its own connection');

  const ours = (): FlatSpan[] => rx!.spans().filter((s) => s.kind === CLIENT_KIND && s.attributes['server.address'] === VIP);
  await rx!.waitFor(() => ours().length >= CONNECTIONS, 30_000).catch(() => {
    throw new Error(`only ${ours().length} of ${CONNECTIONS} client spans arrived; agent:\n${agent!.stderr}\ncollector:\n${collectorErr}`);
  });
  const spans = ours();
  assert.equal(spans.length, CONNECTIONS);
  const metrics = await agent!.metrics();
  const nat = metrics.split('\n').filter((l) => /^sockeye_(conntrack|nat_late)/.test(l)).join('\n');
  t.diagnostic(nat.replace(/\n/g, '; '));
  const unresolved = spans.filter((s) => s.attributes['sockeye.nat.peer.address'] !== SERVER_IP);
  assert.equal(unresolved.length, 0, `${unresolved.length} spans without the post-NAT destination, e.g. ${JSON.stringify(unresolved[0]?.attributes)}\n${nat}`);
  const seen = new Set<string>();
  for (const s of spans) {
    const a = s.attributes;
    seen.add(String(a['url.full']));
    assert.equal(a['network.peer.address'], VIP, 'the socket still shows the dialed VIP');
    assert.equal(a['sockeye.peer.kind'], 'pod', JSON.stringify(a));
    assert.equal(a['sockeye.peer.k8s.pod.name'], BACKEND_POD);
    assert.equal(a['sockeye.peer.k8s.service.name'], 'checkout');
    assert.equal(a['sockeye.peer.k8s.namespace.name'], 'shop');
    assert.equal(a['http.response.status_code'], 200);
  }
  assert.equal(seen.size, CONNECTIONS, 'one span per request, none duplicated');

  // The agent's self-telemetry: every one of the client connections was found in the NAT table.
  const hits = Number(/^sockeye_conntrack\{counter="lookupHits"\} (\d+)/m.exec(metrics)?.[1]);
  assert.equal(hits, CONNECTIONS, nat);
});
