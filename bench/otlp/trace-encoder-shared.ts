// The one OTLP trace encoder (common/otlp/trace-encoder.ts) on both sides' span shapes, side by
// side with what it replaced, in one run: the agent's spans (TxSpan, as the agent builds them) and
// the collector's pdata (decoded from the wire, as a receiver hands it on). CPU time per span,
// rounds alternating, medians. With --baseline DIR (a dist/ built from an older commit) the older
// encoders of that tree run in the same rounds.
//   node dist/bench/otlp/trace-encoder-shared.js [--baseline OLD/dist] [spans per request] [rounds]
import { resolve } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { encodeSpans } from '../../agent/export/otlp-span-encoder.js';
import { fastEncodeTraceRequest } from '../../otel-collector/pdata/fast-trace-encoder.js';
import { decodeTraceRequest, encodeTraceRequestWithLibrary, type Traces } from '../../otel-collector/pdata/index.js';
import { SpanBuilder, type BuiltSignals } from '../../agent/signals/span-builder.js';
import { RouteRegistry } from '../../agent/signals/route-template.js';
import { ProcessResources } from '../../agent/signals/process-resource.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { newSpanId, newTraceId } from '../../agent/signals/trace-context.js';
import { httpTx } from '../../test/signals/helpers/make-transaction.js';

const args = process.argv.slice(2);
const bi = args.indexOf('--baseline');
const baseline = bi >= 0 ? resolve(args.splice(bi, 2)[1]!) : undefined;
const perRequest = Number(args[0] ?? 2048);
const rounds = Number(args[1] ?? 5);

function agentSpans(n: number): ReadableSpan[] {
  const b = new SpanBuilder(fromEpoch(1_763_000_000, 0), new RouteRegistry(200));
  const res = new ProcessResources();
  const out: ReadableSpan[] = [];
  for (let i = 0; i < n; i++) {
    const tx = httpTx({ target: `/api/users/${i % 997}?page=${i % 7}`, role: i % 2 ? 'client' : 'server', status: i % 50 ? 200 : 503,
      headers: { userAgent: 'bench/1', host: '10.0.0.7:8080' } });
    const s = (b.build(tx, res.get(tx.process)) as BuiltSignals).span;
    s.traceId = newTraceId();
    s.spanId = newSpanId();
    if (i % 2 === 0 && i > 0) s.setParent(out[i - 1]!.spanContext().traceId, out[i - 1]!.spanContext().spanId);
    out.push(s);
  }
  return out;
}

type Case = { side: 'agent' | 'collector'; name: string; run: () => Uint8Array };

function cpuUs(fn: () => void): number {
  const a = process.cpuUsage();
  fn();
  const d = process.cpuUsage(a);
  return d.user + d.system;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const spans = agentSpans(perRequest);
  const decoded = decodeTraceRequest(encodeSpans(spans));
  if (!decoded.ok) throw new Error(decoded.error);
  const traces: Traces = decoded.value;
  const cases: Case[] = [
    { side: 'agent', name: 'SDK ProtobufTraceSerializer', run: () => ProtobufTraceSerializer.serializeRequest(spans)! },
    { side: 'agent', name: 'common encoder (this tree)', run: () => encodeSpans(spans) },
    { side: 'collector', name: 'protobufjs (library)', run: () => encodeTraceRequestWithLibrary(traces) },
    { side: 'collector', name: 'common encoder (this tree)', run: () => fastEncodeTraceRequest(traces) },
  ];
  if (baseline) {
    const oldAgent = await import(`${baseline}/agent/export/otlp-span-encoder.js`) as { encodeSpans: (s: ReadableSpan[]) => Uint8Array };
    const oldCollector = await import(`${baseline}/otel-collector/pdata/fast-trace-encoder.js`) as { fastEncodeTraceRequest: (t: Traces) => Uint8Array };
    cases.splice(1, 0, { side: 'agent', name: 'baseline agent encoder', run: () => oldAgent.encodeSpans(spans) });
    cases.splice(4, 0, { side: 'collector', name: 'baseline collector encoder', run: () => oldCollector.fastEncodeTraceRequest(traces) });
  }
  const reps = Math.max(3, Math.round(200_000 / perRequest));
  const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
  let bytes = 0;
  for (const c of cases) for (let i = 0; i < 3; i++) bytes = c.run().length; // warm
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) times.get(c)!.push(cpuUs(() => { for (let i = 0; i < reps; i++) c.run(); }) / (reps * perRequest));
  }
  console.log(`OTLP trace encoding, ${perRequest} HTTP spans per request (${(bytes / perRequest).toFixed(0)} B/span), ${rounds} rounds, node ${process.version}; CPU µs per span, median`);
  for (const c of cases) console.log(`  ${c.side.padEnd(10)} ${c.name.padEnd(30)} ${median(times.get(c)!).toFixed(3).padStart(7)} µs/span`);
}

await main();
