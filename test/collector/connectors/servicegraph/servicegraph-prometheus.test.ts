// End to end: the JS SDK's OTLP/gRPC exporter sends client and server spans to the collector; the
// servicegraph connector turns them into metrics; the prometheus exporter serves them; a real
// Prometheus server (Debian's package, started here on loopback) scrapes it; PromQL through its
// HTTP API returns the request and failure counts for the client→server pair.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { startCollector, receiverPorts, sdkClientServerSpans, waitFor } from '../../helpers/collector-harness.js';
import type { Service } from '../../../../otel-collector/service/service.js';
import type { PrometheusExporter } from '../../../../otel-collector/exporters/prometheus/prometheus-exporter.js';
import { freePort } from '../../../helpers/free-port.js';

const havePrometheus = spawnSync('prometheus', ['--version']).status === 0;
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });


async function promQuery(port: number, q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = await res.json() as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, 'success');
  return body.data.result;
}

test('Prometheus scrapes traces_service_graph_request_total for the client→server pair', { skip: !havePrometheus && 'the prometheus binary is not installed (Debian package prometheus; scripts/setup.sh installs it)' }, async () => {
  const svc: Service = await startCollector(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
processors:
  batch: { timeout: 50ms }
connectors:
  servicegraph:
    metrics_flush_interval: 200ms
    store: { ttl: 1s }
exporters:
  prometheus: { endpoint: "127.0.0.1:0" }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [servicegraph] }
    metrics: { receivers: [servicegraph], exporters: [prometheus] }
`);
  cleanups.push(() => svc.shutdown());
  const promExporter = svc.component('exporter', 'prometheus') as unknown as PrometheusExporter;

  // 37 client→server requests; every 4th fails (i = 0, 4, ..., 36 → 10 failures).
  const spans = await sdkClientServerSpans(37, { client: 'frontend', server: 'checkout', failEvery: 4 });
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${receiverPorts(svc).grpc}` });
  const r = await new Promise<{ code: ExportResultCode; error?: Error }>((res) => exporter.export(spans, res));
  await exporter.shutdown();
  assert.equal(r.code, ExportResultCode.SUCCESS, r.error?.message);
  await waitFor(() => /traces_service_graph_request_total\{[^}]*\} 37/.test(promExporter.render()), 5000, 'the exporter to serve the edge');

  const dir = mkdtempSync(join(tmpdir(), 'sockeye-prom-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    'scrape_configs:',
    '  - job_name: sockeye-collector',
    `    static_configs: [{ targets: ["127.0.0.1:${promExporter.port}"] }]`,
  ].join('\n'));
  const promPort = await freePort();
  const prom: ChildProcess = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let promLog = '';
  prom.stderr!.on('data', (d: Buffer) => { promLog += d.toString(); });
  cleanups.push(() => new Promise<void>((res) => {
    if (prom.exitCode !== null) { res(); return; }
    prom.once('exit', () => res());
    prom.kill('SIGTERM');
  }));

  const q = 'traces_service_graph_request_total{client="frontend",server="checkout",connection_type=""}';
  let result: Awaited<ReturnType<typeof promQuery>> = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (prom.exitCode !== null) assert.fail(`prometheus exited (${prom.exitCode}): ${promLog}`);
    try { result = await promQuery(promPort, q); } catch { /* not up yet */ }
    if (result.length) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(result.length, 1, `no series for ${q}; prometheus log:\n${promLog}`);
  assert.equal(result[0]!.value[1], '37');
  assert.equal(result[0]!.metric.job, 'sockeye-collector');
  const failed = await promQuery(promPort, 'traces_service_graph_request_failed_total{client="frontend",server="checkout"}');
  assert.equal(failed[0]?.value[1], '10');
  const count = await promQuery(promPort, 'sum(traces_service_graph_request_server_seconds_count{client="frontend",server="checkout"})');
  assert.equal(count[0]?.value[1], '37');
});
