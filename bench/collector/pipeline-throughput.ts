// Benchmark: spans/s per core through the collector, receive → batch → servicegraph → export, and
// lighter pipelines side by side to show what each stage costs. The collector runs as its own
// process (`sockeye collector`, as deployed); its CPU time comes from /proc/<pid>/stat, so the load
// generator and the sink in this process do not count. Also: our OTLP codec against the
// OpenTelemetry JS serializer. Loopback only; bounded in spans and time.
//   node dist/bench/collector/pipeline-throughput.js [--spans N] [--rounds R] [--only I]
// Batches are 1024 spans as in processor-config/collector.yaml (SOCKEYE_BENCH_BATCH_SIZE overrides);
// in the default-pipeline scenario 75% of the client spans carry a NAT record (SOCKEYE_BENCH_NAT_SHARE).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { encodeRequests, sendAll, startSink, makeRequest, type K8sEnds } from './otlp-load.js';
import type { Span } from '../../otel-collector/pdata/index.js';
import { K8sApiTestServer, PATHS } from '../../test/collector/helpers/k8s-api-test-server.js';
import { decodeTraceRequest, encodeTraceRequest, encodeTraceRequestWithLibrary } from '../../otel-collector/pdata/index.js';

const GOAL = 100_000;
const argSpans = process.argv.indexOf('--spans');
const TOTAL_SPANS = argSpans > 0 ? Number(process.argv[argSpans + 1]) : 400_000;
const PAIRS_PER_REQUEST = 256; // 512 spans per request, a typical agent batch
const CONCURRENCY = 4;
const TIME_LIMIT_MS = 90_000;
const bin = fileURLToPath(new URL('../../../bin/sockeye.js', import.meta.url));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => res(p)); });
  });
}
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime
}
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

interface Scenario { name: string; processors: string[]; exporters: string[]; k8s?: boolean }
const ALL_SCENARIOS: Scenario[] = [
  { name: 'receive → export', processors: [], exporters: ['otlp_grpc'] },
  { name: 'receive → batch → export', processors: ['batch'], exporters: ['otlp_grpc'] },
  { name: 'receive → batch → servicegraph', processors: ['batch'], exporters: ['servicegraph'] },
  { name: 'receive → memory_limiter → batch → servicegraph + export', processors: ['memory_limiter', 'batch'], exporters: ['otlp_grpc', 'servicegraph'] },
  // The default pipeline: both span ends looked up in a cache of K8S_PODS pods served by the
  // Kubernetes API test server (real list/watch protocol); a share of the client spans dialed a
  // Service VIP that conntrack translated, so nat resolves their backend pod and Service.
  { name: 'default: memory_limiter → nat → k8s_attributes → batch → servicegraph + export', processors: ['memory_limiter', 'nat', 'k8s_attributes', 'batch'], exporters: ['otlp_grpc', 'servicegraph'], k8s: true },
];
const K8S_PODS = 2000;
const podIp = (i: number) => `198.18.${128 + Math.floor(i / 250)}.${(i % 250) + 1}`;
const podUid = (i: number) => `pod-${String(i).padStart(6, '0')}-0000-4000-8000-000000000000`;
const K8S_ENDS: K8sEnds = { clientUid: podUid(7), clientIp: podIp(7), serverUid: podUid(1234), serverIp: podIp(1234) };
// The backend's Service. With kube-proxy most in-cluster calls dial a ClusterIP; the rest (headless
// Services, direct pod IPs) carry no NAT record. SOCKEYE_BENCH_NAT_SHARE overrides the share.
const SERVICE_VIP = '198.18.64.10';
const NAT_SHARE = Number(process.env.SOCKEYE_BENCH_NAT_SHARE ?? 0.75);
if (!(NAT_SHARE >= 0 && NAT_SHARE <= 1)) throw new Error(`SOCKEYE_BENCH_NAT_SHARE must be between 0 and 1, got ${process.env.SOCKEYE_BENCH_NAT_SHARE}`);

/** What the agent reports for a client span whose connection to the VIP was DNATed to the pod. */
function viaServiceVip(span: Span, backendIp: string): void {
  const a = span.attributes.filter((kv) => kv.key !== 'network.peer.address' && kv.key !== 'server.port');
  a.push(
    { key: 'server.address', value: { stringValue: SERVICE_VIP } }, { key: 'server.port', value: { intValue: 80 } },
    { key: 'network.peer.address', value: { stringValue: SERVICE_VIP } },
    { key: 'sockeye.nat.peer.address', value: { stringValue: backendIp } }, { key: 'sockeye.nat.peer.port', value: { intValue: 8080 } },
  );
  span.attributes = a;
}

/** Requests for the k8s scenario: NAT_SHARE of the client spans (spread evenly) went through the VIP. */
function encodeK8sRequests(count: number, pairs: number): { requests: Buffer[]; natSpans: number } {
  let natSpans = 0;
  const requests = Array.from({ length: count }, () => {
    const t = makeRequest(pairs, K8S_ENDS);
    t.resourceSpans[0]!.scopeSpans[0]!.spans.forEach((sp, i) => {
      if (Math.floor((i + 1) * NAT_SHARE) > Math.floor(i * NAT_SHARE)) { viaServiceVip(sp, K8S_ENDS.serverIp); natSpans++; }
    });
    return Buffer.from(encodeTraceRequest(t));
  });
  return { requests, natSpans };
}

async function startK8sApi(): Promise<K8sApiTestServer> {
  const api = new K8sApiTestServer();
  for (let i = 0; i < K8S_PODS; i++) {
    const app = `app-${i % 200}`;
    api.add(PATHS.pods, {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `${app}-5d8f7c9b6-${i.toString(36).padStart(5, 'x')}`, namespace: `team-${i % 20}`, uid: podUid(i),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-5d8f7c9b6`, uid: `rs-${app}`, controller: true }] },
      spec: { nodeName: `node-${i % 50}` },
      status: { phase: 'Running', podIP: podIp(i), podIPs: [{ ip: podIp(i) }] },
    } as never);
  }
  for (let i = 0; i < 200; i++) {
    api.add(PATHS.replicasets, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `app-${i}-5d8f7c9b6`, namespace: `team-${i % 20}`, uid: `rs-app-${i}`,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: `app-${i}`, uid: `d-${i}`, controller: true }] } } as never);
  }
  api.add(PATHS.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app-34', namespace: 'team-14', uid: 'svc-app-34' },
    spec: { clusterIP: SERVICE_VIP, clusterIPs: [SERVICE_VIP] } } as never); // the Service of pod 1234 (app-34, team-14)
  for (let i = 0; i < 50; i++) {
    api.add(PATHS.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}`, uid: `node-${i}` }, status: { addresses: [{ type: 'InternalIP', address: `198.18.0.${i + 1}` }] } } as never);
  }
  await api.start();
  return api;
}

const argRounds = process.argv.indexOf('--rounds');
// Several rounds, scenarios interleaved, medians reported: the machine is shared and noisy.
const ROUNDS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 3;
const only = process.argv.indexOf('--only');
const SCENARIOS = only > 0 ? ALL_SCENARIOS.slice(Number(process.argv[only + 1]), Number(process.argv[only + 1]) + 1) : ALL_SCENARIOS;

interface Result { name: string; spans: number; wallS: number; cpuS: number; rss: number; exported: number }

async function runScenario(sc: Scenario, sinkPort: number, sinkSpans: () => number, sinkLastKeys: () => string[], dir: string, kubeconfig: string): Promise<Result> {
  const [grpcPort, promPort, telemetryPort] = [await freePort(), await freePort(), await freePort()];
  const file = join(dir, `${sc.name.replace(/\W+/g, '-')}.yaml`);
  const usesSg = sc.exporters.includes('servicegraph');
  writeFileSync(file, `
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:${grpcPort}", max_recv_msg_size_mib: 16 } } } }
processors:
  batch: { send_batch_size: ${process.env.SOCKEYE_BENCH_BATCH_SIZE ?? 1024}, timeout: 200ms }
  memory_limiter: { limit_percentage: 80, spike_limit_percentage: 20 }
${sc.k8s ? `  nat: { kubeconfig: "${kubeconfig}" }\n  k8s_attributes: { kubeconfig: "${kubeconfig}" }` : ''}
connectors: { servicegraph: { metrics_flush_interval: 1s, store: { max_items: 100000 } } }
exporters:
  otlp_grpc: { endpoint: "127.0.0.1:${sinkPort}", compression: none, sending_queue: { queue_size: 5000 } }
  prometheus: { endpoint: "127.0.0.1:${promPort}" }
service:
  telemetry: { logs: { level: warn }${sc.k8s ? `, metrics: { address: "127.0.0.1:${telemetryPort}" }` : ''} }
  pipelines:
    traces: { receivers: [otlp], processors: [${sc.processors.join(', ')}], exporters: [${sc.exporters.join(', ')}] }
${usesSg ? '    metrics: { receivers: [servicegraph], exporters: [prometheus] }' : ''}
`);
  // SOCKEYE_BENCH_PROFILE=DIR writes a V8 CPU profile of each collector run there.
  const prof = process.env.SOCKEYE_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SOCKEYE_BENCH_PROFILE}`] : [];
  // SOCKEYE_BENCH_NODE_FLAGS: extra V8/Node flags for the collector process (e.g. GC tuning trials).
  const flags = (process.env.SOCKEYE_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...flags, ...prof, bin, 'collector', '--config', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const target = `127.0.0.1:${grpcPort}`;
    const encode = (count: number, pairs: number) => (sc.k8s ? encodeK8sRequests(count, pairs) : { requests: encodeRequests(count, pairs), natSpans: 0 });
    // Warm-up (JIT, connections), then the measured run.
    for (let i = 0; ; i++) {
      const r = await sendAll(target, encode(1, 8).requests, 1).catch(() => ({ failed: 1 }));
      if (r.failed === 0) break;
      if (i > 100) throw new Error('collector did not come up');
      await new Promise((res) => setTimeout(res, 100));
    }
    await sendAll(target, encode(40, PAIRS_PER_REQUEST).requests, CONCURRENCY);
    const natBefore = sc.k8s ? await natResolvedToPods(telemetryPort) : 0;
    const { requests, natSpans } = encode(Math.ceil(TOTAL_SPANS / (2 * PAIRS_PER_REQUEST)), PAIRS_PER_REQUEST);
    const spans = requests.length * 2 * PAIRS_PER_REQUEST;
    await new Promise((res) => setTimeout(res, 500));
    const exportsOut = sc.exporters.includes('otlp_grpc');
    const sinkBefore = sinkSpans();
    const cpu0 = cpuSeconds(child.pid!);
    const t0 = performance.now();
    const sent = await sendAll(target, requests, CONCURRENCY);
    if (sent.failed) throw new Error(`${sent.failed} requests failed`);
    // Done when the exported spans all reached the sink (or, without export, when the receiver answered).
    const deadline = Date.now() + TIME_LIMIT_MS;
    while (exportsOut && sinkSpans() - sinkBefore < spans && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    const wallS = (performance.now() - t0) / 1000;
    const cpuS = cpuSeconds(child.pid!) - cpu0;
    if (sc.k8s) {
      // Proof the lookups happened: the exported spans carry both ends' Kubernetes names.
      const keys = sinkLastKeys();
      if (!keys.includes('k8s.deployment.name') || !keys.some((k) => k.startsWith('sockeye.peer.k8s.pod.name'))) {
        throw new Error(`spans were not enriched; exported keys: ${keys.join(', ')}`);
      }
      // And nat did its work: every NATed span of the measured run resolved to the backend pod.
      const resolved = (await natResolvedToPods(telemetryPort)) - natBefore;
      if (resolved !== natSpans) throw new Error(`nat resolved ${resolved} of the ${natSpans} NATed spans to pods`);
    }
    return { name: sc.name, spans, wallS, cpuS, rss: rssMiB(child.pid!), exported: exportsOut ? sinkSpans() - sinkBefore : spans };
  } finally {
    child.kill('SIGTERM');
    await new Promise((res) => child.once('exit', res));
  }
}

/** sockeye_collector_nat_resolutions_total{result="pod"} from the collector's self-telemetry. */
async function natResolvedToPods(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^sockeye_collector_nat_resolutions_total\{[^}]*result="pod"[^}]*\} (\S+)$/gm)) n += Number(m[1]);
  return n;
}

function codecFigures(): { ours: number; decode: number; protobufjs: number } {
  const t = makeRequest(PAIRS_PER_REQUEST);
  const bytes = encodeTraceRequest(t);
  const rounds = 200;
  for (let i = 0; i < 20; i++) decodeTraceRequest(encodeTraceRequest(t));
  let t0 = performance.now();
  for (let i = 0; i < rounds; i++) encodeTraceRequest(t);
  const ours = (rounds * 2 * PAIRS_PER_REQUEST) / ((performance.now() - t0) / 1000);
  const decoded = decodeTraceRequest(bytes);
  if (!decoded.ok) throw new Error(decoded.error);
  for (let i = 0; i < 20; i++) encodeTraceRequestWithLibrary(decoded.value);
  t0 = performance.now();
  for (let i = 0; i < rounds; i++) encodeTraceRequestWithLibrary(decoded.value);
  const protobufjs = (rounds * 2 * PAIRS_PER_REQUEST) / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (let i = 0; i < rounds; i++) decodeTraceRequest(bytes);
  const decode = (rounds * 2 * PAIRS_PER_REQUEST) / ((performance.now() - t0) / 1000);
  return { ours, decode, protobufjs };
}

async function libraryEncodeRate(): Promise<number> {
  // The OpenTelemetry JS serializer on equivalent SDK spans (its input type), for scale.
  const { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace');
  const { ProtobufTraceSerializer } = await import('@opentelemetry/otlp-transformer');
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('bench');
  for (let i = 0; i < 2 * PAIRS_PER_REQUEST; i++) {
    tracer.startSpan('GET /items', { attributes: { 'http.request.method': 'GET', 'url.path': '/items', 'http.response.status_code': 200, 'server.port': 8080 } }).end();
  }
  const spans = exporter.getFinishedSpans();
  const rounds = 200;
  for (let i = 0; i < 20; i++) ProtobufTraceSerializer.serializeRequest(spans);
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) ProtobufTraceSerializer.serializeRequest(spans);
  await provider.shutdown();
  return (rounds * spans.length) / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sockeye-bench-collector-'));
  const sink = await startSink();
  const api = SCENARIOS.some((s) => s.k8s) ? await startK8sApi() : undefined;
  const kubeconfig = api ? api.writeKubeconfig() : join(dir, 'no-kubeconfig');
  const runs = new Map<string, Result[]>();
  try {
    console.log(`collector pipeline throughput — ${TOTAL_SPANS} spans per run, ${2 * PAIRS_PER_REQUEST} spans/request, ${CONCURRENCY} in flight, ${ROUNDS} rounds (median), ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const sc of SCENARIOS) {
        const r = await runScenario(sc, sink.port, sink.spans, sink.lastKeys, dir, kubeconfig);
        (runs.get(sc.name) ?? runs.set(sc.name, []).get(sc.name)!).push(r);
        console.log(`  round ${round + 1}: ${r.name}: ${Math.round(r.spans / r.cpuS).toLocaleString('en-US')} spans/s per core`);
      }
    }
  } finally {
    await sink.stop();
    await api?.stop();
    if (api) rmSync(dirname(kubeconfig), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  // The median run by CPU per span stands for each scenario.
  const results = [...runs.values()].map((rs) => [...rs].sort((a, b) => a.cpuS / a.spans - b.cpuS / b.spans)[Math.floor(rs.length / 2)]!);
  console.log('\n| pipeline | spans | wall s | collector CPU s | spans/s | spans/s per core | vs goal 100k/core | RSS MiB |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const perCore = r.spans / r.cpuS;
    console.log(`| ${r.name} | ${fmt(r.spans)} | ${r.wallS.toFixed(2)} | ${r.cpuS.toFixed(2)} | ${fmt(r.spans / r.wallS)} | ${fmt(perCore)} | ${(perCore / GOAL).toFixed(2)}× | ${r.rss.toFixed(0)} |`);
    if (r.exported !== r.spans) console.log(`  WARNING: ${r.name}: ${r.spans - r.exported} spans did not reach the sink`);
  }
  const base = results[0]!;
  console.log('\nCPU per span relative to receive → export:');
  for (const r of results) console.log(`  ${r.name}: ${((r.cpuS / r.spans) / (base.cpuS / base.spans)).toFixed(2)}×  (${((r.cpuS / r.spans) * 1e6).toFixed(2)} µs CPU/span)`);
  const c = codecFigures();
  const lib = await libraryEncodeRate();
  console.log(`\nOTLP codec, one core, ${2 * PAIRS_PER_REQUEST}-span requests:`);
  console.log(`  decode (protobufjs, our schema):            ${fmt(c.decode)} spans/s`);
  console.log(`  encode, hand-written (fast-trace-encoder):  ${fmt(c.ours)} spans/s`);
  console.log(`  encode, protobufjs:                         ${fmt(c.protobufjs)} spans/s  (hand-written/protobufjs = ${(c.ours / c.protobufjs).toFixed(2)}×)`);
  console.log(`  OpenTelemetry JS ProtobufTraceSerializer:   ${fmt(lib)} spans/s  (hand-written/OTel JS = ${(c.ours / lib).toFixed(2)}×; it starts from SDK spans)`);
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
