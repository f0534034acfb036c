// Benchmark: collector memory with a big cluster in the Kubernetes metadata cache. An API test server
// (the one the tests use: real list/watch protocol) serves N pods (default 10k, realistic size:
// labels, annotations, container specs, statuses), ReplicaSets, Services and Nodes. Each variant runs
// in a fresh child process so RSS is its own:
//   sockeye   — our K8sCache: slimmed objects + indexes
//   stock     — @kubernetes/client-node's makeInformer on the typed list call (full objects), pods only
// Prints RSS and V8 heap after a full GC, time to sync, and the ratio. Run:
//   node dist/bench/collector/k8s-cache-rss.js [pods]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { K8sApiTestServer, PATHS } from '../../test/collector/helpers/k8s-api-test-server.js';

const MIB = 1024 * 1024;

function pod(i: number) {
  const ns = `team-${i % 50}`;
  const app = `app-${Math.floor(i / 10) % 500}`;
  const rs = `${app}-${(i % 7).toString(16)}f9c8d7b6`;
  const ip = `198.18.${128 + Math.floor(i / 250)}.${i % 250 + 1}`;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: `${rs}-${i.toString(36).padStart(5, 'x')}`, namespace: ns, uid: `0000${i}`.padEnd(36, 'a'), creationTimestamp: '2026-11-01T10:00:00Z',
      labels: { app, 'pod-template-hash': 'f9c8d7b6', tier: 'backend', 'app.kubernetes.io/version': '1.2.3' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-01T09:59:00Z', 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: `rs-${rs}`, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      nodeName: `node-${i % 100}`, serviceAccountName: 'default', restartPolicy: 'Always', dnsPolicy: 'ClusterFirst',
      containers: [{
        name: 'main', image: `registry.example.test/${app}:1.2.3`, ports: [{ containerPort: 8080, protocol: 'TCP' }],
        env: Array.from({ length: 8 }, (_, k) => ({ name: `SETTING_${k}`, value: `value-${k}-${app}` })),
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        volumeMounts: [{ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
      }],
      volumes: [{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
    status: {
      phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: `198.18.0.${i % 100 + 1}`, startTime: '2026-11-01T10:00:01Z', qosClass: 'Burstable',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: '2026-11-01T10:00:05Z' })),
      containerStatuses: [{ name: 'main', ready: true, restartCount: 0, image: `registry.example.test/${app}:1.2.3`, imageID: `registry.example.test/${app}@sha256:${'c'.repeat(64)}`,
        containerID: `containerd://${i.toString(16).padStart(64, '0')}`, started: true, state: { running: { startedAt: '2026-11-01T10:00:03Z' } } }],
    },
  };
}

async function child(variant: string, port: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const { KubeConfig, makeInformer, CoreV1Api } = await import('@kubernetes/client-node');
  const { K8sCache } = await import('../../otel-collector/k8s/k8s-cache.js');
  const { silentLogger } = await import('../../otel-collector/component/logger.js');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'b', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'b', token: 'test-token' }], contexts: [{ name: 'b', cluster: 'b', user: 'b' }], currentContext: 'b',
  });
  gc();
  const base = process.memoryUsage();
  const t0 = performance.now();
  let count = 0;
  let stop: () => Promise<void>;
  if (variant === 'sockeye') {
    const cache = new K8sCache(kc, { authType: 'kubeConfig', resyncMs: 0, kinds: ['replicasets', 'services', 'nodes'], pageSize: 500, logger: silentLogger });
    await cache.start(120_000);
    count = cache.indexes.sizes().pods!;
    stop = () => cache.stop();
  } else {
    const core = kc.makeApiClient(CoreV1Api);
    const inf = makeInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
    await inf.start();
    count = inf.list().length;
    stop = () => inf.stop();
  }
  const syncMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 200));
  gc(); gc();
  const m = process.memoryUsage();
  process.send!({ variant, count, syncMs, rss: m.rss - base.rss, heap: m.heapUsed - base.heapUsed, rssTotal: m.rss });
  await stop();
  process.exit(0);
}

async function main(): Promise<void> {
  const pods = Number(process.argv[2] ?? 10_000);
  const api = new K8sApiTestServer();
  for (let i = 0; i < pods; i++) api.add(PATHS.pods, pod(i) as never);
  for (let i = 0; i < 500 * 7; i++) api.add(PATHS.replicasets, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `rs-${i}`, namespace: `team-${i % 50}`, uid: `rs-${i}`, ownerReferences: [{ kind: 'Deployment', name: `app-${i % 500}`, uid: 'd', controller: true }] } } as never);
  for (let i = 0; i < 1000; i++) api.add(PATHS.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: `team-${i % 50}`, uid: `svc-${i}` }, spec: { clusterIP: `198.19.${Math.floor(i / 250)}.${i % 250 + 1}` } } as never);
  for (let i = 0; i < 100; i++) api.add(PATHS.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}`, uid: `node-${i}` }, status: { addresses: [{ type: 'InternalIP', address: `198.18.0.${i + 1}` }] } } as never);
  await api.start();
  const bytes = JSON.stringify(pod(1)).length;
  console.log(`k8s cache memory: ${pods} pods (~${bytes} B of JSON each), 3500 ReplicaSets, 1000 Services, 100 Nodes; Node ${process.version}`);
  const results: Record<string, { count: number; syncMs: number; rss: number; heap: number; rssTotal: number }> = {};
  for (const variant of ['sockeye', 'stock']) {
    const r = await new Promise<typeof results[string]>((resolve, reject) => {
      const p = fork(fileURLToPath(import.meta.url), ['--child', variant, String(api.port)], { execArgv: ['--expose-gc'] });
      p.once('message', (m) => resolve(m as typeof results[string]));
      p.once('exit', (code) => { if (code) reject(new Error(`${variant} child exited ${code}`)); });
    });
    results[variant] = r;
    console.log(`  ${variant.padEnd(8)} pods=${r.count}  sync ${(r.syncMs / 1000).toFixed(2)} s  RSS +${(r.rss / MIB).toFixed(1)} MiB (total ${(r.rssTotal / MIB).toFixed(1)} MiB)  heap +${(r.heap / MIB).toFixed(1)} MiB`);
  }
  const s = results.sockeye!, k = results.stock!;
  console.log(`  ratio stock/sockeye: heap ${(k.heap / s.heap).toFixed(1)}x, RSS growth ${(k.rss / s.rss).toFixed(1)}x (stock holds pods only; sockeye also ReplicaSets, Services, Nodes)`);
  await api.stop();
}

if (process.argv[2] === '--child') void child(process.argv[3]!, Number(process.argv[4]));
else void main();
