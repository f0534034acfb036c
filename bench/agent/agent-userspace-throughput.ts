// Agent userspace cost, ring buffer → exported OTLP, per stage and end to end, in one run.
// Input: raw ring-buffer batches (bench/agent/ring-records.ts: the records the kernel capture
// delivers for a Node HTTP/1.1 server on keep-alive connections, request read, response writev),
// decoded by the real EventDecoder and handed to the engine as agent/agent.ts does.
// Stages: decoder alone; + protocol engine; signals alone (span + RED metrics); decoder → engine →
// signals + OTLP encoding (the SDK's serializer vs ours); the full path with export over OTLP/gRPC
// and OTLP/HTTP (protobuf), without and with gzip, to an OTLP sink in a separate process (so the
// sink's CPU is not charged to the agent). Figures are transactions per CPU-second of this
// process (= per core). The input is a few large Buffers, so the heap the bench holds does not
// weigh on the garbage collector (the earlier version pre-made 200k event objects per stage and
// its gRPC stage measured mostly major GCs of that heap).
// Run: node dist/bench/agent/agent-userspace-throughput.js [transactions] [--only-export] [--baseline OLD/dist]
// (--baseline: only the before/after comparison of the whole path, this tree against OLD/dist.)
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import { EventDecoder } from '../../agent/capture/event-decoder.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { createMetricExporter, createSpanExporter, type OtlpTarget } from '../../agent/export/otlp-exporters.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { createOtlpGrpcExporterMetrics } from '@opentelemetry/otlp-grpc-exporter-base';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ExportResultCode } from '@opentelemetry/core';
import { encodeSpans } from '../../agent/export/otlp-span-encoder.js';
import { ringBatchList, ringBatches } from './ring-records.js';
import { RawHttp2GrpcTransport } from './raw-http2-transport.js';
import { OTLPExporterBase, createOtlpNetworkExportDelegate } from '@opentelemetry/otlp-exporter-base';
import { FastTraceSerializer } from '../../agent/export/otlp-span-encoder.js';
import { ConsistentSampler } from '../../agent/sampling/consistent-sampler.js';
import { powerOfTwoThreshold } from '../../agent/sampling/threshold.js';

class RawSpanExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {}
const rawHttp2Exporter = (endpoint: string): SpanExporter => new RawSpanExporter(createOtlpNetworkExportDelegate(
  { timeoutMillis: 10_000, concurrencyLimit: 32, compression: 'none' as never }, FastTraceSerializer,
  createOtlpGrpcExporterMetrics('raw_http2_span_exporter', TraceExporterMetricsHelper, endpoint, undefined), new RawHttp2GrpcTransport(endpoint)));

/** decoder → engine, as agent/agent.ts wires them (process identities looked up per event). */
function feeder(p: SignalPipeline | undefined, sink: (tx: Transaction) => void): (batch: Buffer) => void {
  const d = new EventDecoder();
  const e = new ProtocolEngine({}, sink, undefined, p ? (id) => p.connectionClosed(id) : undefined);
  return (batch) => {
    const events = d.decodeBatch(batch);
    if (p) {
      const now = Date.now();
      p.batchClock.set(now);
      for (let i = 0; i < events.length; i++) p.resources.get(events[i]!.process, events[i]!.tsNs, now);
    }
    e.push(events);
  };
}

/** Waits while more than `limit` spans are queued or in flight (a load generator also waits for its responses). */
async function backpressure(t: TelemetryRegistry, limit: number): Promise<void> {
  const inFlight = () => t.get('sockeye_spans_total') - t.get('sockeye_spans_exported_total')
    - t.get('sockeye_spans_dropped_total', { reason: 'queue_full' }) - t.get('sockeye_spans_dropped_total', { reason: 'export_failed' });
  while (inFlight() > limit) await new Promise((r) => setTimeout(r, 1));
  await new Promise((r) => setImmediate(r));
}


const GOAL = 100_000;

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
  spans = 0;
  constructor(private readonly serialize: (spans: ReadableSpan[]) => Uint8Array) {}
  export(spans: ReadableSpan[], done: (r: { code: ExportResultCode }) => void): void {
    this.bytes += this.serialize(spans).length;
    this.spans += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

/** Fresh process: the full path with batches made on the fly (outside the measured CPU); reports RSS at rest and peak. */
async function rssRun(n: number, port: number): Promise<void> {
  const telemetry = new TelemetryRegistry();
  const target = { protocol: 'grpc' as const, endpoint: `http://127.0.0.1:${port}` };
  const p = new SignalPipeline({ telemetry, clock: fromEpoch(1_700_000_000, 0), linkWaitMs: 0, liveStats: false, spanExporter: createSpanExporter(target),
    metricExporter: createMetricExporter(target), metricExportIntervalMs: 1000, spanQueueSize: 16_384, spanBatchSize: 2048, spanDelayMs: 200 });
  const feed = feeder(p, (tx) => p.onTransaction(tx));
  for (const b of ringBatches(2000, 64, 1)) feed(b);
  await p.flush();
  await new Promise((r) => setTimeout(r, 1500));
  const rest = rssMb();
  let peak = rest;
  let i = 0;
  let cpu = 0;
  for (const b of ringBatches(n)) {
    const a = process.cpuUsage();
    feed(b);
    await backpressure(telemetry, 8192);
    const d = process.cpuUsage(a);
    cpu += (d.user + d.system) / 1e6;
    if (++i % 8 === 0) peak = Math.max(peak, rssMb());
  }
  cpu += await cpuSecondsAsync(() => p.flush());
  process.send!({ rest, peak, rate: n / cpu, exported: telemetry.get('sockeye_spans_exported_total') });
  await p.shutdown();
  process.exit(0);
}

/** CPU seconds per thread name of this process (/proc/self/task): main thread, V8 GC helpers, libuv pool. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === process.pid ? 'main' : st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')).replace(/[0-9]+$/, '').trim();
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch { /* thread gone */ }
  }
  return out;
}
const threadShare = (a: Map<string, number>, b: Map<string, number>) => [...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)] as const)
  .filter(([, v]) => v > 0.005).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ');

const sum = (t: TelemetryRegistry, name: string, reasons: string[]) => reasons.reduce((a, reason) => a + t.get(name, { reason }), 0);

/** The whole path with export to the sink over one transport; returns tx/s per core. */
async function fullPath(n: number, batches: Buffer[], warm: Buffer[], target: OtlpTarget, label: string,
  sinkStats: () => Promise<{ bytes: number; exports: number }>, spanExporter?: SpanExporter): Promise<number> {
  const telemetry = new TelemetryRegistry();
  const clock = fromEpoch(1_700_000_000, 0);
  const p = new SignalPipeline({ telemetry, clock, linkWaitMs: 0, liveStats: false, spanExporter: spanExporter ?? createSpanExporter(target, 'fast', { telemetry }),
    metricExporter: createMetricExporter(target), metricExportIntervalMs: 1000, spanQueueSize: 65_536, spanBatchSize: 2048, spanDelayMs: 5 });
  const warmFeed = feeder(p, (tx) => p.onTransaction(tx));
  for (const b of warm) warmFeed(b);
  await p.flush();
  const before = await sinkStats();
  const exported0 = telemetry.get('sockeye_spans_exported_total');
  const feed = feeder(p, (tx) => p.onTransaction(tx));
  const threads0 = threadCpu();
  const ru0 = process.resourceUsage();
  const cpu = await cpuSecondsAsync(async () => {
    for (const b of batches) { feed(b); await backpressure(telemetry, 30_000); }
    await p.flush();
  });
  const rate = row(label, n, cpu);
  const ru = process.resourceUsage();
  console.log(`   CPU by thread: ${threadShare(threads0, threadCpu())}; user ${((ru.userCPUTime - ru0.userCPUTime) / 1e6).toFixed(2)} s, system ${((ru.systemCPUTime - ru0.systemCPUTime) / 1e6).toFixed(2)} s, ${ru.voluntaryContextSwitches - ru0.voluntaryContextSwitches} voluntary context switches`);
  const after = await sinkStats();
  const dropped = sum(telemetry, 'sockeye_spans_dropped_total', ['queue_full', 'export_failed']);
  console.log(`   spans exported ${telemetry.get('sockeye_spans_exported_total') - exported0} of ${n}, dropped ${dropped}; sink received ${((after.bytes - before.bytes) / 2 ** 20).toFixed(1)} MiB in ${after.exports - before.exports} requests`);
  await p.shutdown();
  return rate;
}

/** The agent modules of one built tree (this dist, or an older one given with --baseline). */
interface Tree {
  name: string;
  EventDecoder: typeof EventDecoder; ProtocolEngine: typeof ProtocolEngine; SignalPipeline: typeof SignalPipeline;
  TelemetryRegistry: typeof TelemetryRegistry; createSpanExporter: typeof createSpanExporter; createMetricExporter: typeof createMetricExporter;
  encodeSpans: typeof encodeSpans;
}
async function loadTree(name: string, dist: string): Promise<Tree> {
  const m = async (path: string) => import(`${dist}/${path}`);
  return { name, EventDecoder: (await m('agent/capture/event-decoder.js')).EventDecoder, ProtocolEngine: (await m('agent/protocols/engine/protocol-engine.js')).ProtocolEngine,
    SignalPipeline: (await m('agent/signals/signal-pipeline.js')).SignalPipeline, TelemetryRegistry: (await m('common/telemetry/telemetry-registry.js')).TelemetryRegistry,
    ...(await m('agent/export/otlp-exporters.js')), encodeSpans: (await m('agent/export/otlp-span-encoder.js')).encodeSpans };
}

/** One tree's whole path (ring → spans → encoded, and exported when `target`), tx/s per core. */
async function treePath(t: Tree, n: number, batches: Buffer[], warm: Buffer[], target?: OtlpTarget): Promise<number> {
  const telemetry = new t.TelemetryRegistry();
  const spanExporter = target ? t.createSpanExporter(target, 'fast', { telemetry }) : new EncodeOnlyExporter(t.encodeSpans);
  const p = new t.SignalPipeline({ telemetry, clock: fromEpoch(1_700_000_000, 0), linkWaitMs: 0, liveStats: false, spanExporter,
    ...(target ? { metricExporter: t.createMetricExporter(target), metricExportIntervalMs: 1000 } : {}), spanQueueSize: 65_536, spanBatchSize: 2048, spanDelayMs: 5 });
  const feed = () => {
    const d = new t.EventDecoder();
    const e = new t.ProtocolEngine({}, (tx) => p.onTransaction(tx), undefined, (id) => p.connectionClosed(id));
    return (batch: Buffer) => {
      const events = d.decodeBatch(batch);
      const now = Date.now();
      p.batchClock?.set(now);
      for (let i = 0; i < events.length; i++) p.resources.get(events[i]!.process, events[i]!.tsNs, now);
      e.push(events);
    };
  };
  const w = feed();
  for (const b of warm) w(b);
  await p.flush();
  const f = feed();
  const cpu = await cpuSecondsAsync(async () => {
    for (const b of batches) { f(b); await backpressure(telemetry, 30_000); }
    await p.flush();
  });
  await p.shutdown();
  return n / cpu;
}

/** Before/after in one run: both trees on the same input, rounds alternating, medians. */
async function compareTrees(n: number, batches: Buffer[], warm: Buffer[], baseline: string, port: number, httpPort: number): Promise<void> {
  const here = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
  const trees = [await loadTree('baseline', baseline), await loadTree('this tree', here)];
  const paths: [string, OtlpTarget | undefined][] = [['ring → spans → OTLP bytes', undefined],
    ['+ OTLP/gRPC export', { protocol: 'grpc', endpoint: `http://127.0.0.1:${port}` }],
    ['+ OTLP/HTTP export', { protocol: 'http/protobuf', endpoint: `http://127.0.0.1:${httpPort}` }]];
  console.log(`before/after, same run (baseline ${baseline}), 3 rounds alternating, median µs per transaction:`);
  for (const [label, target] of paths) {
    const rates = trees.map(() => [] as number[]);
    for (let r = 0; r < 3; r++) for (let i = 0; i < trees.length; i++) rates[i]!.push(await treePath(trees[i]!, n, batches, warm, target));
    const med = rates.map((xs) => [...xs].sort((a, b) => a - b)[1]!);
    console.log(`   ${label.padEnd(28)} baseline ${(1e6 / med[0]!).toFixed(2)} µs/tx, this tree ${(1e6 / med[1]!).toFixed(2)} µs/tx (${(med[1]! / med[0]!).toFixed(2)}× the rate)`);
  }
}

async function main(): Promise<void> {
  const bl = process.argv.indexOf('--baseline');
  const n = Number(process.argv.slice(2).find((a, i) => !a.startsWith('--') && i + 2 !== bl + 1) ?? 200_000);
  console.log(`agent userspace throughput: ${n.toLocaleString('en-US')} HTTP/1.1 server transactions from raw ring-buffer batches, 64 keep-alive connections, node ${process.version}`);
  const clock = fromEpoch(1_700_000_000, 0);
  const warm = ringBatchList(20_000, 64, 1);
  const batches = ringBatchList(n);
  const records = batches.reduce((a, b) => a + b.length, 0);
  console.log(`   input: ${batches.length} batches, ${(records / 2 ** 20).toFixed(1)} MiB of records`);

  const onlyFull = process.argv.includes('--only-export') || bl > 0;
  // 0. decoder alone
  if (!onlyFull) {
    const d0 = new EventDecoder();
    for (const b of warm) d0.decodeBatch(b);
    const d = new EventDecoder();
    let events = 0;
    const cpu = cpuSeconds(() => { for (const b of batches) events += d.decodeBatch(b).length; });
    if (events !== 2 * n) throw new Error(`decoder produced ${events} of ${2 * n} events`);
    row('0 decoder (ring records → events)', n, cpu);
  }
  // 1. decoder + engine
  if (!onlyFull) {
    let txs = 0;
    const w = feeder(undefined, () => { txs++; });
    for (const b of warm) w(b);
    txs = 0;
    const f = feeder(undefined, () => { txs++; });
    const cpu = cpuSeconds(() => { for (const b of batches) f(b); });
    if (txs !== n) throw new Error(`engine produced ${txs} of ${n}`);
    row('1 decoder + engine (→ transactions)', n, cpu);
  }
  // 2. signals alone, from recorded transactions
  let signalsRate = 0;
  if (!onlyFull) {
    const txs: Transaction[] = [];
    const f = feeder(undefined, (tx) => txs.push(tx));
    for (const b of batches) f(b);
    const p = new SignalPipeline({ telemetry: new TelemetryRegistry(), clock, linkWaitMs: 0, liveStats: false });
    for (let i = 0; i < 20_000; i++) p.onTransaction(txs[i]!);
    const cpu = cpuSeconds(() => { for (const tx of txs) p.onTransaction(tx); });
    signalsRate = row('2 signals (transaction → span + RED metrics)', n, cpu);
    await p.shutdown();
    // Same transactions with the sampling probability forced to 1/16 (as the CPU budget would at
    // saturation): what a sampled-out transaction still costs is the gap between this row and RED alone.
    const sampler = new ConsistentSampler();
    sampler.setThreshold(powerOfTwoThreshold(4), 'configured');
    const q = new SignalPipeline({ telemetry: new TelemetryRegistry(), clock, linkWaitMs: 0, liveStats: false, sampler });
    for (let i = 0; i < 20_000; i++) q.onTransaction(txs[i]!);
    const cpu16 = cpuSeconds(() => { for (const tx of txs) q.onTransaction(tx); });
    const rate16 = row('2b signals, sampling forced to 1/16', n, cpu16);
    console.log(`   1/16 vs full sampling: ${(rate16 / signalsRate).toFixed(2)}× the rate (${q.sampler.sampledOutTotal} sampled out)`);
    await q.shutdown();
  }
  // 3. decoder + engine + signals + batching + OTLP protobuf encoding (no network): SDK serializer vs ours
  const encodeRates: number[] = [];
  if (!onlyFull) for (const [label, serialize] of [['SDK ProtobufTraceSerializer', (sp: ReadableSpan[]) => ProtobufTraceSerializer.serializeRequest(sp)!],
    ['common encoder', encodeSpans]] as const) {
    const exp = new EncodeOnlyExporter(serialize);
    const telemetry = new TelemetryRegistry();
    const p = new SignalPipeline({ telemetry, clock, linkWaitMs: 0, liveStats: false, spanExporter: exp, spanQueueSize: 65_536, spanBatchSize: 2048, spanDelayMs: 5 });
    const w = feeder(p, (tx) => p.onTransaction(tx));
    for (const b of warm) w(b);
    await p.flush();
    const f = feeder(p, (tx) => p.onTransaction(tx));
    exp.bytes = 0;
    const cpu = await cpuSecondsAsync(async () => {
      for (const b of batches) { f(b); await backpressure(telemetry, 30_000); }
      await p.flush();
    });
    encodeRates.push(row(`3 ring → spans + encoding (${label})`, n, cpu));
    const dropped = telemetry.get('sockeye_spans_dropped_total', { reason: 'queue_full' });
    console.log(`   encoded ${(exp.bytes / 2 ** 20).toFixed(1)} MiB of OTLP, ${(exp.bytes / n).toFixed(0)} B/span, queue-full drops ${dropped}`);
    await p.shutdown();
  }
  if (!onlyFull) console.log(`   common encoder vs SDK serializer, whole path: ${(encodeRates[1]! / encodeRates[0]!).toFixed(2)}×`);
  // 3b. the same with the SDK's BatchSpanProcessor in place of our span queue (agent/export/span-export.ts)
  if (!onlyFull) {
    const exp = new EncodeOnlyExporter(encodeSpans);
    const bsp = new BatchSpanProcessor({ exporter: exp, maxQueueSize: 65_536, maxExportBatchSize: 2048, scheduledDelayMillis: 5 });
    const telemetry = new TelemetryRegistry();
    const p = new SignalPipeline({ telemetry, clock, linkWaitMs: 0, liveStats: false, onSpan: (s) => bsp.onEnd(s) });
    const w = feeder(p, (tx) => p.onTransaction(tx));
    for (const b of warm) w(b);
    await bsp.forceFlush();
    const f = feeder(p, (tx) => p.onTransaction(tx));
    exp.spans = 0;
    const cpu = await cpuSecondsAsync(async () => {
      for (const b of batches) {
        f(b);
        while (telemetry.get('sockeye_spans_total') - 20_000 - exp.spans > 30_000) await new Promise((r) => setTimeout(r, 1));
        await new Promise((r) => setImmediate(r));
      }
      await bsp.forceFlush();
    });
    row('3b same, SDK BatchSpanProcessor as the queue', n, cpu);
    console.log(`   exported ${exp.spans} of ${n}`);
    await bsp.shutdown();
  }
  // 4. full: ... + export to an OTLP sink in another process, per transport and compression
  const child = fork(new URL(import.meta.url).pathname, ['--sink'], { stdio: 'inherit' });
  const { port, httpPort } = await new Promise<{ port: number; httpPort: number }>((r) => child.once('message', (m) => r(m as never)));
  const bi = process.argv.indexOf('--baseline');
  if (bi > 0) {
    try { await compareTrees(n, batches, warm, resolve(process.argv[bi + 1]!), port, httpPort); } finally { child.kill(); }
    return;
  }
  const sinkStats = () => new Promise<{ bytes: number; exports: number }>((r) => { child.once('message', (m) => r(m as never)); child.send('stats'); });
  try {
    const grpc = { protocol: 'grpc' as const, endpoint: `http://127.0.0.1:${port}` };
    const http = { protocol: 'http/protobuf' as const, endpoint: `http://127.0.0.1:${httpPort}` };
    const full = await fullPath(n, batches, warm, grpc, '4 full: + OTLP/gRPC export', sinkStats);
    await fullPath(n, batches, warm, grpc, '4 full: + gRPC on bare node:http2 (bench only)', sinkStats, rawHttp2Exporter(grpc.endpoint));
    await fullPath(n, batches, warm, http, '4 full: + OTLP/HTTP protobuf export', sinkStats);
    await fullPath(n, batches, warm, { ...grpc, compression: 'gzip' }, '4 full: + OTLP/gRPC export, gzip', sinkStats);
    await fullPath(n, batches, warm, { ...http, compression: 'gzip' }, '4 full: + OTLP/HTTP export, gzip', sinkStats);
    if (!onlyFull) console.log(`   full path (gRPC) vs signals-only: share of cost outside span/metric building: ${((1 - full / signalsRate) * 100).toFixed(0)}%`);
    const rss = fork(new URL(import.meta.url).pathname, ['--rss', String(n), String(port)], { stdio: ['inherit', 'pipe', 'inherit', 'ipc'] });
    const m = await new Promise<{ rest: number; peak: number; rate: number; exported: number }>((r) => rss.once('message', (x) => r(x as never)));
    console.log(`RSS of the agent pipeline in a fresh process: at rest ${m.rest.toFixed(0)} MB, peak under load ${m.peak.toFixed(0)} MB (goal ≤ 75 MB); ${Math.round(m.rate).toLocaleString('en-US')} tx/s per core there (gRPC), ${m.exported} spans exported`);
  } finally {
    child.kill();
  }
}

if (process.argv[2] === '--sink') {
  const { startOtlpSink } = await import('../overhead/otlp-sink.js');
  const sink = await startOtlpSink(process.env.SOCKEYE_SINK_WINDOW !== 'default');
  process.send!({ port: sink.port, httpPort: sink.httpPort });
  process.on('message', () => process.send!({ bytes: sink.bytes, exports: sink.exports }));
} else if (process.argv[2] === '--rss') {
  await rssRun(Number(process.argv[3]), Number(process.argv[4]));
} else {
  await main();
}
