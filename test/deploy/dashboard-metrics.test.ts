// The Grafana dashboards ask for the metric and label names our code serves: every PromQL
// expression is checked against live renders, so a renamed metric or label breaks this test.
// Sources, all real: the agent's signal pipeline (RED histograms and self-telemetry, as on the
// agent's /metrics), the same pipeline exporting over OTLP/gRPC to the collector whose prometheus
// exporter renders the translated names, the servicegraph connector fed by SDK client/server spans,
// the protocol engine fed malformed traffic (its counters), and, when this machine can load BPF,
// a real `sockeye agent` on the kernel (the sockeye_capture / sockeye_engine families it registers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { createMetricExporter, createSpanExporter } from '../../agent/export/otlp-exporters.js';
import { startCollector, receiverPorts, sdkClientServerSpans, waitFor } from '../collector/helpers/collector-harness.js';
import type { PrometheusExporter } from '../../otel-collector/exporters/prometheus/prometheus-exporter.js';
import { httpTx, grpcTx, dnsTx } from '../signals/helpers/make-transaction.js';
import { EventScript, runEngine } from '../protocols/helpers/engine-event-script.js';
import { AgentChild, kernelAgentUnavailable } from '../agent/helpers/agent-child.js';
import { promqlNames, dashboardExprs, exposedSeries, LABEL_REPLACE_TAIL } from './helpers/promql-names.js';
import { root } from './helpers/render-chart.js';
import { TcpMetrics } from '../../agent/network-health/tcp-metrics.js';
import { TcpEventMetrics } from '../../agent/network-health/tcp-event-metrics.js';
import { ResetReasons } from '../../agent/network-health/reset-reasons.js';
import type { TcpEvent } from '../../agent/network-health/tcp-event-decoder.js';
import { ConnectionResets } from '../../agent/network-health/connection-resets.js';
import { TCP_METRIC } from '../../agent/network-health/tcp-metrics.js';
import { fixtureApiServer } from '../collector/helpers/k8s-test-helpers.js';

type Exposed = Map<string, Map<string, Set<string>>>;
const exposed: Exposed = new Map();
const engineCounters = new Set<string>();
const kernelSkip = kernelAgentUnavailable();
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const dashDir = new URL('deploy/dashboards/', root);
const dashboards = readdirSync(dashDir).filter((f) => f.endsWith('.json')).map((f) => ({ file: f, json: JSON.parse(readFileSync(new URL(f, dashDir), 'utf8')) }));

function closedPort(): Promise<number> {
  return new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => res(p)); }); });
}

function feed(p: SignalPipeline): void {
  p.onTransaction(httpTx({ target: '/api/items/1' }));
  p.onTransaction(httpTx({ target: '/api/items/2', status: 503 }));
  p.onTransaction(httpTx({ role: 'client', target: '/v1/users/7', headers: { host: 'users.test:8080' } }));
  p.onTransaction(grpcTx('server', 0));
  p.onTransaction(grpcTx('server', 13));
  p.onTransaction(grpcTx('client', 14));
  p.onTransaction(dnsTx('NOERROR'));
  p.onTransaction(httpTx({ target: '/api/items/3', error: 'gap' })); // outcome lost by the capture
}

before(async () => {
  const svc = await startCollector(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
connectors:
  servicegraph:
    metrics_flush_interval: 100ms
    store: { ttl: 1s }
exporters:
  prometheus:
    endpoint: "127.0.0.1:0"   # defaults: job/instance, service_name and the k8s labels, no more
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [servicegraph] }
    metrics: { receivers: [otlp, servicegraph], exporters: [prometheus] }
`);
  cleanups.push(() => svc.shutdown());
  const prom = svc.component('exporter', 'prometheus') as unknown as PrometheusExporter;
  const endpoint = `http://127.0.0.1:${receiverPorts(svc).grpc}`;

  // The agent's pipeline exporting to the collector: RED metrics through the OTLP → Prometheus
  // translation, and the export-outcome counters.
  const telemetry = new TelemetryRegistry();
  const p = new SignalPipeline({ telemetry, clock: fromEpoch(1_700_000_000, 0), linkWaitMs: 0, spanDelayMs: 50, maxServices: 1,
    spanExporter: createSpanExporter({ protocol: 'grpc', endpoint }), metricExporter: createMetricExporter({ protocol: 'grpc', endpoint }) });
  cleanups.push(() => p.shutdown());
  feed(p);
  feedResets(p);
  // A second service (pid 1) beyond a cap of 1: the service-overflow counter.
  p.onTransaction(httpTx({ process: { pid: 1, tid: 1, comm: 'init', cgroupId: 1n, netns: 1 } }));
  await p.flush();

  const spans = await sdkClientServerSpans(5, { client: 'frontend', server: 'checkout', failEvery: 2 });
  const sdk = new OTLPTraceExporter({ url: endpoint });
  const r = await new Promise<{ code: ExportResultCode; error?: Error }>((res) => sdk.export(spans, res));
  await sdk.shutdown();
  assert.equal(r.code, ExportResultCode.SUCCESS, r.error?.message);
  await waitFor(() => /traces_service_graph_request_failed_total\{/.test(prom.render()) && /http_server_request_duration_seconds_bucket\{/.test(prom.render()), 5000, 'the collector to serve RED and service-graph metrics');
  exposedSeries(prom.render(), exposed);
  exposedSeries((await p.metrics.renderPrometheus()) + telemetry.render(), exposed);
  exposedSeries(tcpNetworkHealthRender(), exposed);
  exposedSeries(await tcpThroughK8sAttributes(), exposed);

  // Export to a port nobody listens on: the drop counters.
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const t2 = new TelemetryRegistry();
  const p2 = new SignalPipeline({ telemetry: t2, clock: fromEpoch(1_700_000_000, 0), linkWaitMs: 0, exportTimeoutMs: 300,
    spanExporter: createSpanExporter({ protocol: 'grpc', endpoint: dead, timeoutMs: 300 }), metricExporter: createMetricExporter({ protocol: 'grpc', endpoint: dead, timeoutMs: 300 }) });
  feed(p2);
  await p2.flush();
  await p2.shutdown();
  exposedSeries(t2.render(), exposed);

  // The engine's counters on malformed HTTP/1.1, undecodable DNS and a capture gap.
  const bad = new EventScript(1, 'server', 'http1').data('ingress', 'G\x00T / HTTP/1.1\r\n\r\n').close();
  const dns = new EventScript(2, 'client', 'dns').data('egress', '\x00\x03\x00\x01\x02').close();
  const gap = new EventScript(3, 'server', 'http1').data('ingress', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n').gap('ingress', 100).close();
  for (const k of Object.keys(runEngine([...bad.events, ...dns.events, ...gap.events]).counters)) engineCounters.add(k);

  if (!kernelSkip) {
    const agent = await AgentChild.start((listen) => `listen: ${listen}\nexport:\n  enabled: false\nlive_view: off\n`);
    cleanups.push(() => agent.stop());
    const text = await agent.metrics();
    exposedSeries(text, exposed);
    for (const v of exposed.get('sockeye_engine')?.get('counter') ?? []) engineCounters.add(v);
  }
});

/** Values a label takes, as far as this test saw them. */
function seenValues(metric: string, label: string): Set<string> | undefined {
  if (metric === 'sockeye_engine' && label === 'counter') return engineCounters;
  return exposed.get(metric)?.get(label);
}

const SCRAPE_LABELS = new Set(['instance', 'job']); // added by Prometheus to every scraped series

test('a real agent on this kernel serves the capture and engine families', { skip: kernelSkip }, () => {
  assert.ok(exposed.get('sockeye_capture')?.get('counter')?.has('lostEvents'));
  assert.ok(exposed.get('sockeye_engine')?.get('counter')?.has('engine_events'));
});

test('the engine counters the self-telemetry dashboard reads are produced', () => {
  assert.ok(engineCounters.has('http1_parse_errors') && engineCounters.has('dns_parse_errors'), [...engineCounters].join(' '));
  assert.ok(engineCounters.has('engine_gap_bytes'));
});

for (const { file, json } of dashboards) {
  test(`${file}: every metric, label and label value in its PromQL is one our code serves`, (t) => {
    const exprs = dashboardExprs(json);
    assert.ok(exprs.length > 3, 'the dashboard has queries');
    const problems: string[] = [];
    let kernelOnly = 0;
    for (const expr of exprs) {
      const { selectors, groupBy, readLabels } = promqlNames(expr);
      const metrics = selectors.map((s) => s.metric).filter(Boolean);
      assert.ok(metrics.length > 0, `no metric in ${expr}`);
      const known = (m: string) => exposed.has(m);
      for (const s of selectors) {
        if (!s.metric) { problems.push(`selector without a metric name in: ${expr}`); continue; }
        if (!known(s.metric)) {
          if (kernelSkip && (s.metric === 'sockeye_capture' || s.metric === 'sockeye_engine')) { kernelOnly++; continue; }
          problems.push(`unknown metric ${s.metric} in: ${expr}`);
          continue;
        }
        for (const m of s.matchers) {
          if (SCRAPE_LABELS.has(m.label)) continue;
          if (!exposed.get(s.metric)!.has(m.label)) { problems.push(`${s.metric} has no label ${m.label} (has: ${[...exposed.get(s.metric)!.keys()].join(', ')})`); continue; }
          if (m.value.includes('$') || (m.op !== '=' && m.op !== '=~')) continue; // dashboard variables; negative matchers
          const values = [...(seenValues(s.metric, m.label) ?? [])];
          const re = new RegExp(`^(?:${m.op === '=' ? m.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : m.value})$`);
          if (!values.some((v) => re.test(v))) problems.push(`${s.metric}{${m.label}${m.op}"${m.value}"} matches none of the values served: ${values.join(', ')}`);
        }
      }
      const labelsHere = new Set(metrics.flatMap((m) => [...(exposed.get(m)?.keys() ?? [])]));
      const made = new Set([...expr.matchAll(LABEL_REPLACE_TAIL)].map((x) => x[1]!));
      for (const l of groupBy) {
        if (l === 'le' ? !metrics.some((m) => m.endsWith('_bucket')) : !labelsHere.has(l) && !SCRAPE_LABELS.has(l) && !made.has(l)) {
          if (kernelSkip && metrics.every((m) => m === 'sockeye_capture' || m === 'sockeye_engine')) continue;
          problems.push(`groups by ${l}, which none of ${metrics.join(', ')} has: ${expr}`);
        }
      }
      for (const l of readLabels) if (!labelsHere.has(l) && !SCRAPE_LABELS.has(l)) problems.push(`reads label ${l}, which none of ${metrics.join(', ')} has: ${expr}`);
    }
    assert.deepEqual(problems, []);
    if (kernelOnly) t.diagnostic(`${kernelOnly} sockeye_capture/sockeye_engine selectors not checked: ${kernelSkip}`);
  });
}

test('dashboards are valid Grafana models and match their generator', () => {
  const uids = new Set<string>();
  for (const { file, json } of dashboards) {
    assert.ok(json.uid && !uids.has(json.uid), `${file}: unique uid`);
    uids.add(json.uid);
    assert.equal(typeof json.title, 'string');
    const ids = json.panels.map((p: { id: number }) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${file}: panel ids unique`);
    for (const p of json.panels) assert.ok(p.gridPos && p.type, `${file}: panel ${p.id} has a type and a position`);
  }
  assert.deepEqual(dashboards.map((d) => d.file).sort(), ['sockeye-red.json', 'sockeye-self-telemetry.json', 'sockeye-service-graph.json']);
  assert.ok(dashboards.find((d) => d.file === 'sockeye-service-graph.json')!.json.panels.some((p: { type: string }) => p.type === 'nodeGraph'));
  const check = spawnSync(process.execPath, [new URL('deploy/dashboards/build-dashboards.mjs', root).pathname, '--check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
});

test('the PromQL scanner finds names in the shapes the dashboards use', () => {
  const n = promqlNames('histogram_quantile(0.95, sum by (a, le) (rate(x_bucket{a=~"$v", b!=""}[5m]))) / sum(rate(y_total[$__range])) or z');
  assert.deepEqual(n.selectors.map((s) => s.metric), ['x_bucket', 'y_total', 'z']);
  assert.deepEqual(n.selectors[0]!.matchers, [{ label: 'a', op: '=~', value: '$v' }, { label: 'b', op: '!=', value: '' }]);
  assert.deepEqual(n.groupBy, ['a', 'le']);
  assert.deepEqual(promqlNames('label_values(m{x="1"}, lbl)').readLabels, ['lbl']);
  assert.deepEqual(promqlNames('label_replace(rate(m[1m]), "node", "$1", "server", "(.*)")').readLabels, ['server']);
});

/** The agent's sockeye_tcp_* families (agent/network-health/), fed one event of each kind. */
/** Two HTTP transactions (server and client side) whose connection was reset mid-response. */
function feedResets(p: SignalPipeline): void {
  const resets = new ConnectionResets(new ResetReasons(new Map([[5, 'tcp_state']])));
  const server = httpTx({ error: 'connection_closed' });
  const client = httpTx({ role: 'client', error: 'connection_closed' });
  for (const [tx, kind] of [[server, 'reset_sent'], [client, 'reset_received']] as const) {
    resets.record({ kind, tsNs: tx.startNs + 1000, sock: 1n, role: tx.role as 'client', errno: 0, state: 1, noSocket: false, netns: tx.process.netns,
      resetReason: kind === 'reset_sent' ? 5 : undefined, ...tx.tuple });
  }
  p.resets = resets;
  p.onTransaction(server);
  p.onTransaction(client);
  p.resets = undefined;
}

/** TCP metrics as the collector serves them after k8s_attributes gave their peers an identity
 *  (the fixture cluster's db-0 pod and checkout Service), through its prometheus exporter. */
async function tcpThroughK8sAttributes(): Promise<string> {
  const api = await fixtureApiServer();
  cleanups.push(() => api.stop());
  const svc = await startCollector(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
processors:
  k8s_attributes:
    kubeconfig: ${api.writeKubeconfig()}
exporters:
  prometheus:
    endpoint: "127.0.0.1:0"
service:
  pipelines:
    metrics: { receivers: [otlp], processors: [k8s_attributes], exporters: [prometheus] }
`);
  cleanups.push(() => svc.shutdown());
  const prom = svc.component('exporter', 'prometheus') as unknown as PrometheusExporter;
  const m = new TcpMetrics({ telemetry: new TelemetryRegistry(), exporter: createMetricExporter({ protocol: 'grpc', endpoint: `http://127.0.0.1:${receiverPorts(svc).grpc}` }), exportIntervalMs: 60_000 });
  for (const peer of [{ 'server.address': '198.18.10.20', 'server.port': 5432 }, { 'server.address': '198.18.100.10', 'server.port': 80 }]) {
    m.record('checkout', undefined, TCP_METRIC.resets, { 'sockeye.tcp.role': 'client', ...peer, 'sockeye.tcp.reset.direction': 'received', 'sockeye.tcp.state': 'established' });
    m.record('checkout', undefined, TCP_METRIC.connectDuration, { ...peer, 'error.type': 'connection_refused' }, 0.001);
  }
  await m.exportNow();
  await m.shutdown();
  await waitFor(() => /sockeye_peer_k8s_pod_name=/.test(prom.render()) && /sockeye_peer_k8s_service_name=/.test(prom.render()), 5000, 'TCP metrics with peer identity from the collector');
  return prom.render();
}

function tcpNetworkHealthRender(): string {
  const t = new TelemetryRegistry();
  const m = new TcpMetrics({ telemetry: t });
  const ids = { get: (p: { pid: number }) => ({ pid: p.pid, serviceName: 'checkout', attributes: {}, resource: undefined as never }) };
  const ev = new TcpEventMetrics(m, ids, new ResetReasons(new Map([[1, 'no_socket']])), t);
  const e: TcpEvent = { kind: 'connect', tsNs: 1, sock: 1n, role: 'client', errno: 0, state: 2, noSocket: false, netns: 1,
    localAddr: '198.18.0.1', localPort: 40000, remoteAddr: '198.18.0.2', remotePort: 8080, owner: { pid: 1, comm: 'checkout' } };
  ev.onEvent({ ...e, established: true, durationS: 0.001 });
  ev.onEvent({ ...e, established: false, errno: 111, durationS: 0.001 });
  ev.onEvent({ ...e, kind: 'close', durationS: 1, srttS: 0.001 });
  ev.onEvent({ ...e, kind: 'retransmit', retransmit: 'data' });
  ev.onEvent({ ...e, kind: 'reset_sent', resetReason: 1, state: 1 });
  ev.onEvent({ ...e, kind: 'listen_overflow', role: 'server' });
  return m.renderPrometheus() + t.render();
}
