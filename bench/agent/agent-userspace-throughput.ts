// Agent userspace cost, kernel events → exported OTLP, per stage and end to end, in one run.
// Input: the CaptureEvents the kernel capture delivers for a Node HTTP/1.1 server on keep-alive
// connections (request read, response writev), in batches as the ring buffer hands them over.
// Stages: protocol engine alone; + signals (span + RED metrics); + the SDK's OTLP protobuf
// encoding; + the full gRPC export to an OTLP sink in a separate process (so the sink's CPU is
// not charged to the agent). Figures are transactions per CPU-second of this process (= per core).
// Run: node dist/bench/agent/agent-userspace-throughput.js [transactions]
import { fork } from 'node:child_process';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import type { CaptureEvent } from '../../agent/capture/capture-events.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { createMetricExporter, createSpanExporter } from '../../agent/export/otlp-exporters.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { ExportResultCode } from '@opentelemetry/core';
import { encodeSpans } from '../../agent/export/otlp-span-encoder.js';

/** Waits while more than `limit` spans are queued or in flight (a load generator also waits for its responses). */
async function backpressure(t: TelemetryRegistry, limit: number): Promise<void> {
  const inFlight = () => t.get('sockeye_spans_total') - t.get('sockeye_spans_exported_total')
    - t.get('sockeye_spans_dropped_total', { reason: 'queue_full' }) - t.get('sockeye_spans_dropped_total', { reason: 'export_failed' });
  while (inFlight() > limit) await new Promise((r) => setTimeout(r, 1));
  await new Promise((r) => setImmediate(r));
}


const GOAL = 100_000;
const enc = new TextEncoder();
const PATHS = ['/api/users/', '/api/orders/', '/health', '/api/items/'];

function makeEvents(count: number, connections = 64): CaptureEvent[][] {
  return [...eventBatches(count, connections)];
}

/** Yields ring-buffer-sized batches, made on the fly (the RSS run must not hold them all). */
function* eventBatches(count: number, connections = 64): Generator<CaptureEvent[]> {
  let batch: CaptureEvent[] = [];
  const offsets = new Map<number, [number, number]>();
  let ts = 1_000_000_000;
  for (let i = 0; i < count; i++) {
    const c = i % connections;
    const connId = 1000 + c;
    const off = offsets.get(connId) ?? [0, 0];
    const path = PATHS[i % PATHS.length]! + (i % PATHS.length === 2 ? '' : String(i % 997));
    const req = enc.encode(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: bench/1\r\nAccept: */*\r\n\r\n`);
    const status = i % 50 === 0 ? '500 Internal Server Error' : '200 OK';
    const res = enc.encode(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nDate: Sun, 22 Nov 2026 07:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 17\r\n\r\n{"ok":true,"n":1}`);
    const base = {
      connId, fd: 20 + c, role: 'server' as const, protocol: 'http1' as const,
      process: { pid: process.pid, tid: process.pid, comm: 'node', cgroupId: 1n, netns: 4026531840 },
      tuple: { family: 4 as const, transport: 'tcp' as const, localAddr: '127.0.0.1', localPort: 8080, remoteAddr: '127.0.0.1', remotePort: 40000 + c },
    };
    batch.push({ ...base, kind: 'data', tsNs: ts, direction: 'ingress', syscall: 'read', bytes: req, totalBytes: req.length, offset: off[0] });
    ts += 180_000;
    batch.push({ ...base, kind: 'data', tsNs: ts, direction: 'egress', syscall: 'writev', bytes: res, totalBytes: res.length, offset: off[1] });
    ts += 20_000;
    offsets.set(connId, [off[0] + req.length, off[1] + res.length]);
    if (batch.length >= 512) { yield batch; batch = []; }
  }
  if (batch.length) yield batch;
}

function cpuSeconds(fn: () => void): number {
  const a = process.cpuUsage();
  fn();
  const d = process.cpuUsage(a);
  return (d.user + d.system) / 1e6;
}
async function cpuSecondsAsync(fn: () => Promise<void>): Promise<number> {
  const a = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(a);
  return (d.user + d.system) / 1e6;
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const row = (name: string, tx: number, cpu: number) => {
  const rate = tx / cpu;
  console.log(`${name.padEnd(46)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} tx/s per core   ${(1e6 / rate).toFixed(2).padStart(7)} µs/tx   ${(rate / GOAL).toFixed(2)}× goal`);
  return rate;
};

/** Exporter that only encodes (the SDK's own OTLP protobuf serializer), to isolate encoding cost. */
class EncodeOnlyExporter implements SpanExporter {
  bytes = 0;
  constructor(private readonly serialize: (spans: ReadableSpan[]) => Uint8Array) {}
  export(spans: ReadableSpan[], done: (r: { code: ExportResultCode }) => void): void {
    this.bytes += this.serialize(spans).length;
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

/** Fresh process: the full path with events made on the fly; reports RSS at rest and peak. */
async function rssRun(n: number, port: number): Promise<void> {
  const telemetry = new TelemetryRegistry();
  const target = { protocol: 'grpc' as const, endpoint: `http://127.0.0.1:${port}` };
  const p = new SignalPipeline({ telemetry, clock: fromEpoch(1_700_000_000, 0), linkWaitMs: 0, spanExporter: createSpanExporter(target),
    metricExporter: createMetricExporter(target), metricExportIntervalMs: 1000, spanQueueSize: 16_384, spanBatchSize: 2048, spanDelayMs: 200 });
  const e = new ProtocolEngine({}, (tx) => p.onTransaction(tx));
  for (const b of eventBatches(2000)) e.push(b);
  await p.flush();
  await new Promise((r) => setTimeout(r, 1500));
  const rest = rssMb();
  let peak = rest;
  let i = 0;
  const cpu = await cpuSecondsAsync(async () => {
    for (const b of eventBatches(n)) {
      e.push(b);
      await backpressure(telemetry, 8192);
      if (++i % 8 === 0) peak = Math.max(peak, rssMb());
    }
    await p.flush();
  });
  process.send!({ rest, peak, rate: n / cpu, exported: telemetry.get('sockeye_spans_exported_total') });
  await p.shutdown();
  process.exit(0);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200_000);
  console.log(`agent userspace throughput: ${n.toLocaleString('en-US')} HTTP/1.1 server transactions, 64 keep-alive connections, node ${process.version}`);
  const clock = fromEpoch(1_700_000_000, 0);
  const warm = makeEvents(20_000);

  // 1. engine alone
  {
    let txs = 0;
    const e0 = new ProtocolEngine({}, () => { txs++; });
    for (const b of warm) e0.push(b);
    const batches = makeEvents(n);
    txs = 0;
    const e = new ProtocolEngine({}, () => { txs++; });
    const cpu = cpuSeconds(() => { for (const b of batches) e.push(b); });
    if (txs !== n) throw new Error(`engine produced ${txs} of ${n}`);
    row('1 engine (events → transactions)', n, cpu);
  }
  // 2. signals alone, from recorded transactions
  let signalsRate = 0;
  {
    const txs: Transaction[] = [];
    const e = new ProtocolEngine({}, (tx) => txs.push(tx));
    for (const b of makeEvents(n)) e.push(b);
    const p = new SignalPipeline({ telemetry: new TelemetryRegistry(), clock, linkWaitMs: 0 });
    for (let i = 0; i < 20_000; i++) p.onTransaction(txs[i]!);
    const cpu = cpuSeconds(() => { for (const tx of txs) p.onTransaction(tx); });
    signalsRate = row('2 signals (transaction → span + RED metrics)', n, cpu);
    await p.shutdown();
  }
  // 3. engine + signals + SDK BatchSpanProcessor + OTLP protobuf encoding (no network): SDK serializer vs ours
  const encodeRates: number[] = [];
  for (const [label, serialize] of [['SDK ProtobufTraceSerializer', (sp: ReadableSpan[]) => ProtobufTraceSerializer.serializeRequest(sp)!],
    ['sockeye wire encoder', encodeSpans]] as const) {
    const exp = new EncodeOnlyExporter(serialize);
    const telemetry = new TelemetryRegistry();
    const p = new SignalPipeline({ telemetry, clock, linkWaitMs: 0, spanExporter: exp, spanQueueSize: 65_536, spanBatchSize: 2048, spanDelayMs: 5 });
    const e = new ProtocolEngine({}, (tx) => p.onTransaction(tx));
    for (const b of warm) e.push(b);
    await p.flush();
    const batches = makeEvents(n);
    exp.bytes = 0;
    const cpu = await cpuSecondsAsync(async () => {
      for (const b of batches) { e.push(b); await backpressure(telemetry, 30_000); }
      await p.flush();
    });
    encodeRates.push(row(`3 engine + signals + encoding (${label})`, n, cpu));
    const dropped = telemetry.get('sockeye_spans_dropped_total', { reason: 'queue_full' });
    console.log(`   encoded ${(exp.bytes / 2 ** 20).toFixed(1)} MiB of OTLP, ${(exp.bytes / n).toFixed(0)} B/span, queue-full drops ${dropped}`);
    await p.shutdown();
  }
  console.log(`   wire encoder vs SDK serializer, whole path: ${(encodeRates[1]! / encodeRates[0]!).toFixed(2)}×`);
  // 4. full: ... + gRPC export to an OTLP sink in another process
  const child = fork(new URL(import.meta.url).pathname, ['--sink'], { stdio: 'inherit' });
  const { port } = await new Promise<{ port: number }>((r) => child.once('message', (m) => r(m as { port: number })));
  try {
    const telemetry = new TelemetryRegistry();
    const target = { protocol: 'grpc' as const, endpoint: `http://127.0.0.1:${port}` };
    const p = new SignalPipeline({ telemetry, clock, linkWaitMs: 0, spanExporter: createSpanExporter(target), metricExporter: createMetricExporter(target),
      metricExportIntervalMs: 1000, spanQueueSize: 65_536, spanBatchSize: 2048, spanDelayMs: 5 });
    const e = new ProtocolEngine({}, (tx) => p.onTransaction(tx));
    for (const b of warm) e.push(b);
    await p.flush();
    const batches = makeEvents(n);
    let peak = 0;
    const cpu = await cpuSecondsAsync(async () => {
      let i = 0;
      for (const b of batches) {
        e.push(b);
        await backpressure(telemetry, 30_000);
        if (++i % 8 === 0) peak = Math.max(peak, rssMb());
      }
      await p.flush();
    });
    const full = row('4 full: + gRPC export to an OTLP sink', n, cpu);
    const exported = telemetry.get('sockeye_spans_exported_total');
    const dropped = telemetry.get('sockeye_spans_dropped_total', { reason: 'queue_full' }) + telemetry.get('sockeye_spans_dropped_total', { reason: 'export_failed' });
    const sinkStats = await new Promise<{ bytes: number; exports: number }>((r) => { child.once('message', (m) => r(m as { bytes: number; exports: number })); child.send('stats'); });
    console.log(`   spans exported ${exported}, dropped ${dropped}; sink received ${(sinkStats.bytes / 2 ** 20).toFixed(1)} MiB in ${sinkStats.exports} requests`);
    console.log(`   full path vs signals-only: ${(full / signalsRate).toFixed(2)}× (share of cost outside span/metric building: ${((1 - full / signalsRate) * 100).toFixed(0)}%)`);
    console.log(`   (this process's RSS ${peak.toFixed(0)} MB holds the pre-made events of every stage; RSS is measured in a fresh process below)`);
    await p.shutdown();
    const rss = fork(new URL(import.meta.url).pathname, ['--rss', String(n), String(port)], { stdio: ['inherit', 'pipe', 'inherit', 'ipc'] });
    const m = await new Promise<{ rest: number; peak: number; rate: number; exported: number }>((r) => rss.once('message', (x) => r(x as never)));
    console.log(`RSS of the agent pipeline in a fresh process: at rest ${m.rest.toFixed(0)} MB, peak under load ${m.peak.toFixed(0)} MB (goal ≤ 75 MB); ${Math.round(m.rate).toLocaleString('en-US')} tx/s per core there, ${m.exported} spans exported`);
  } finally {
    child.kill();
  }
}

if (process.argv[2] === '--sink') {
  const { startOtlpSink } = await import('../overhead/otlp-sink.js');
  const sink = await startOtlpSink();
  process.send!({ port: sink.port });
  process.on('message', () => process.send!({ bytes: sink.bytes, exports: sink.exports }));
} else if (process.argv[2] === '--rss') {
  await rssRun(Number(process.argv[3]), Number(process.argv[4]));
} else {
  await main();
}
