// How many spans per second the span export path drains to a real OTLP/gRPC endpoint (a sink in
// a child process, so its CPU is not ours), at offered rates a busy node produces. Each setting
// gets the same offered load in the same run, so the figures sit side by side: exported, dropped
// (counted queue-full / export-failed), wall time to drain and this process's CPU per span.
// Run: node dist/bench/agent/span-export-drain.js [seconds] [spans/s,...]
import { fork } from 'node:child_process';
import { SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SpanExport, type SpanExportOptions } from '../../agent/export/span-export.js';
import { createSpanExporter } from '../../agent/export/otlp-exporters.js';
import { TxSpan } from '../../agent/signals/tx-span.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';

type Setting = { label: string; opts: Omit<SpanExportOptions, 'exporter' | 'telemetry'> };
const SETTINGS: Setting[] = [
  { label: 'agent defaults: batch 2048, queue 16k', opts: { maxQueueSize: 16_384, maxExportBatchSize: 2048 } },
  { label: 'batch 512, queue 16k', opts: { maxQueueSize: 16_384, maxExportBatchSize: 512 } },
  { label: 'batch 4096, queue 64k', opts: { maxQueueSize: 65_536, maxExportBatchSize: 4096 } },
];

const resource = resourceFromAttributes({ 'service.name': 'bench-server', 'process.pid': 4242, 'host.name': 'node-1' });
let seq = 0;
function makeSpan(): TxSpan {
  const n = seq++;
  const start = 1_700_000_000 + (n >>> 10);
  const s = new TxSpan(`GET /api/items/{id}`, SpanKind.SERVER, [start, 1000], [start, 181_000], 180_000, {
    'http.request.method': 'GET', 'http.route': '/api/items/{id}', 'url.path': `/api/items/${n % 997}`, 'http.response.status_code': 200,
    'server.address': '127.0.0.1', 'server.port': 8080, 'client.address': '127.0.0.1', 'client.port': 40000 + (n % 64), 'network.protocol.version': '1.1',
  }, resource);
  s.traceId = (n + 1).toString(16).padStart(32, '0');
  s.spanId = (n + 1).toString(16).padStart(16, '0');
  return s;
}

async function run(port: number, rate: number, seconds: number, s: Setting): Promise<void> {
  const telemetry = new TelemetryRegistry();
  const exp = new SpanExport({ exporter: createSpanExporter({ protocol: 'grpc', endpoint: `http://127.0.0.1:${port}` }), telemetry, ...s.opts });
  const total = rate * seconds;
  const tickMs = 10;
  const perTick = Math.round((rate * tickMs) / 1000);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.round(((performance.now() - t0) / 1000) * rate) + perTick);
    while (sent < due) { exp.submit(makeSpan()); sent++; }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  const offeredS = (performance.now() - t0) / 1000;
  await exp.forceFlush();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const exported = telemetry.get('sockeye_spans_exported_total');
  const dropped = telemetry.get('sockeye_spans_dropped_total', { reason: 'queue_full' }) + telemetry.get('sockeye_spans_dropped_total', { reason: 'export_failed' });
  const rss = process.memoryUsage().rss / 2 ** 20;
  console.log(`  ${s.label.padEnd(52)} exported ${String(exported).padStart(8)}  dropped ${String(dropped).padStart(8)} (${((dropped / total) * 100).toFixed(1).padStart(5)}%)  unaccounted ${total - exported - dropped}  `
    + `offered in ${offeredS.toFixed(1)} s, drained in ${wall.toFixed(1)} s  ${(((cpu.user + cpu.system) / total)).toFixed(2)} µs CPU/span  RSS ${rss.toFixed(0)} MB`);
  await exp.shutdown();
}

if (process.argv[2] === '--sink') {
  const { startOtlpSink } = await import('../overhead/otlp-sink.js');
  const sink = await startOtlpSink();
  process.send!({ port: sink.port });
} else {
  const seconds = Number(process.argv[2] ?? 5);
  const rates = (process.argv[3] ?? '60000,120000').split(',').map(Number);
  const child = fork(new URL(import.meta.url).pathname, ['--sink'], { stdio: 'inherit' });
  try {
    const { port } = await new Promise<{ port: number }>((r) => child.once('message', (m) => r(m as { port: number })));
    for (const rate of rates) {
      console.log(`span export drain: ${rate.toLocaleString('en-US')} spans/s offered for ${seconds} s, OTLP/gRPC to a sink process on loopback`);
      for (const s of SETTINGS) await run(port, rate, seconds, s);
    }
  } finally {
    child.kill();
  }
}
