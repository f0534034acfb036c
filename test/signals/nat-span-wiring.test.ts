// The agent's use of the conntrack NAT table when it builds spans (docs/nat.md): client spans of
// translated connections carry sockeye.nat.peer.*, server spans are never looked up, and a span
// built before its conntrack event arrived is resolved at export. The table is the real NatTable
// fed conntrack entries as the ctnetlink decoder produces them; export goes to a real OTLP receiver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { SpanBuilder, type BuiltSignals } from '../../agent/signals/span-builder.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { RouteRegistry } from '../../agent/signals/route-template.js';
import { ProcessResources } from '../../agent/signals/process-resource.js';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { createSpanExporter } from '../../agent/export/otlp-exporters.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { NatTable, type TupleQuery } from '../../agent/conntrack/nat-table.js';
import type { CtEntry } from '../../agent/conntrack/ctnetlink-codec.js';
import type { SocketTuple } from '../../agent/capture/capture-events.js';
import { OtlpTestReceiver } from './helpers/otlp-test-receiver.js';
import { dnsTx, grpcTx, httpTx } from './helpers/make-transaction.js';

const VIP = '198.18.100.10';
const POD = '198.18.2.2';
const clock = fromEpoch(1_700_000_000, 0);
const resources = new ProcessResources();

/** A conntrack NEW entry for a connection DNATed from the VIP to the pod (kube-proxy style). */
function dnat(t: SocketTuple, podPort: number): CtEntry {
  const proto = t.transport === 'udp' ? 17 : 6;
  return {
    kind: 'new', status: 0,
    orig: { src: t.localAddr, srcPort: t.localPort, dst: t.remoteAddr, dstPort: t.remotePort, proto },
    reply: { src: POD, srcPort: podPort, dst: t.localAddr, dstPort: t.localPort, proto },
  } as CtEntry;
}

/** The real table, with its lookups counted (the hot-path cost the wiring promises: one per client span). */
class CountingTable extends NatTable {
  lookups = 0;
  override lookup(q: TupleQuery) { this.lookups++; return super.lookup(q); }
}

const clientTuple = (port: number): SocketTuple => ({ family: 4, transport: 'tcp', localAddr: '198.18.1.2', localPort: port, remoteAddr: VIP, remotePort: 80 });

function build(b: SpanBuilder, tx: Parameters<SpanBuilder['build']>[0]): BuiltSignals {
  const r = b.build(tx, resources.get(tx.process));
  assert.notEqual(typeof r, 'string');
  return r as BuiltSignals;
}

test('client spans of DNATed connections name the post-NAT peer; the dialed VIP stays; one lookup each', () => {
  const table = new CountingTable(100, 30_000);
  const b = new SpanBuilder(clock, new RouteRegistry(100), table);
  const http = httpTx({ role: 'client', tuple: clientTuple(40001), headers: { host: VIP } });
  table.apply(dnat(http.tuple, 8080));
  const s = build(b, http);
  assert.equal(s.span.kind, SpanKind.CLIENT);
  assert.equal(s.span.attributes['sockeye.nat.peer.address'], POD);
  assert.equal(s.span.attributes['sockeye.nat.peer.port'], 8080);
  assert.equal(s.span.attributes['server.address'], VIP);
  assert.equal(s.span.attributes['network.peer.address'], VIP);
  assert.equal(s.natMiss, false);
  assert.equal(table.lookups, 1);

  const grpc = grpcTx('client', 0, { tuple: clientTuple(40002) });
  table.apply(dnat(grpc.tuple, 50051));
  assert.equal(build(b, grpc).span.attributes['sockeye.nat.peer.port'], 50051);

  // DNS to a cluster DNS Service VIP is UDP and translated the same way.
  const dns = { ...dnsTx('NOERROR'), tuple: { family: 4 as const, transport: 'udp' as const, localAddr: '198.18.1.2', localPort: 53001, remoteAddr: VIP, remotePort: 53 } };
  table.apply(dnat(dns.tuple, 5353));
  assert.equal(build(b, dns).span.attributes['sockeye.nat.peer.address'], POD);
  assert.equal(table.lookups, 3);
});

test('server spans are never looked up; untranslated client spans get nothing and are marked for a late retry', () => {
  const table = new CountingTable(100, 30_000);
  const b = new SpanBuilder(clock, new RouteRegistry(100), table);
  const server = build(b, httpTx({ role: 'server' }));
  assert.equal(table.lookups, 0);
  assert.equal(server.natMiss, undefined);
  assert.equal(server.span.attributes['sockeye.nat.peer.address'], undefined);
  const direct = build(b, httpTx({ role: 'client', tuple: clientTuple(40003) }));
  assert.equal(direct.natMiss, true, 'no conntrack news of it yet: worth a late retry');
  // Conntrack already reported this connection untranslated: nothing to wait for.
  const known = httpTx({ role: 'client', tuple: clientTuple(40005) });
  table.apply({ ...dnat(known.tuple, 80), reply: { src: VIP, srcPort: 80, dst: known.tuple.localAddr, dstPort: known.tuple.localPort, proto: 6 } } as CtEntry);
  const plain = build(b, known);
  assert.equal(plain.natMiss, false);
  assert.equal(Object.keys(plain.span.attributes).some((k) => k.startsWith('sockeye.nat.')), false);
  assert.equal(Object.keys(direct.span.attributes).some((k) => k.startsWith('sockeye.nat.')), false);
  // Without a NAT table (conntrack disabled or unavailable) nothing is looked up or marked.
  const none = build(new SpanBuilder(clock, new RouteRegistry(100)), httpTx({ role: 'client', tuple: clientTuple(40004) }));
  assert.equal(none.natMiss, undefined);
});

test('a client span built before its conntrack event arrived waits for it; an untranslated one is released after the wait, counted', async () => {
  const rx = await OtlpTestReceiver.start();
  const telemetry = new TelemetryRegistry();
  const table = new CountingTable(100, 30_000);
  const released: string[] = [];
  const p = new SignalPipeline({ telemetry, clock, spanExporter: createSpanExporter({ protocol: 'grpc', endpoint: rx.grpcEndpoint, timeoutMs: 5000 }),
    spanDelayMs: 20, linkWaitMs: 0, nat: table, natMissWaitMs: 150, onSpan: (s) => released.push(String(s.attributes['url.full']).split('/').pop() ?? '') });
  try {
    const hit = httpTx({ role: 'client', tuple: clientTuple(41000), target: '/hit', headers: { host: VIP } });
    table.apply(dnat(hit.tuple, 8080));
    const late = httpTx({ role: 'client', tuple: clientTuple(41001), target: '/late', headers: { host: VIP } });
    const direct = httpTx({ role: 'client', tuple: { ...clientTuple(41002), remoteAddr: POD }, target: '/direct', headers: { host: POD } });
    for (const tx of [hit, late, direct]) p.onTransaction(tx);
    assert.deepEqual(released, ['hit'], 'a span found at build time goes at once; misses wait');
    assert.equal(telemetry.get('sockeye_nat_held_spans'), 2);
    // The conntrack event for `late` arrives after its span was built (another channel than the capture).
    table.apply(dnat(late.tuple, 8080));
    p.tick();
    assert.deepEqual(released, ['hit'], 'still within the wait');
    await new Promise((r) => setTimeout(r, 170));
    p.tick();
    assert.deepEqual(released, ['hit', 'late', 'direct']);
    await rx.waitFor(() => rx.spans().length >= 3);
    const byPath = new Map(rx.spans().map((s) => [String(s.attributes['url.full']).split('/').pop(), s.attributes]));
    assert.equal(byPath.get('hit')?.['sockeye.nat.peer.address'], POD);
    assert.equal(byPath.get('late')?.['sockeye.nat.peer.address'], POD);
    assert.equal(byPath.get('late')?.['sockeye.nat.peer.port'], 8080);
    assert.equal(byPath.get('direct')?.['sockeye.nat.peer.address'], undefined);
    assert.equal(telemetry.get('sockeye_nat_late_lookups_total', { result: 'hit' }), 1);
    assert.equal(telemetry.get('sockeye_nat_late_lookups_total', { result: 'miss' }), 1);
    assert.equal(telemetry.get('sockeye_nat_held_spans'), 0);
    assert.equal(table.lookups, 5, 'three at build, one retry per miss');
  } finally {
    await p.shutdown();
    await rx.close();
  }
});

test('held spans are never lost: shutdown releases them, and a full hold queue releases its oldest early (counted)', async () => {
  const telemetry = new TelemetryRegistry();
  const released: number[] = [];
  const p = new SignalPipeline({ telemetry, clock, linkWaitMs: 0, nat: new NatTable(10, 30_000), natMissWaitMs: 60_000, spanQueueSize: 3,
    onSpan: (s) => released.push(Number(s.attributes['server.port'])) });
  for (let i = 0; i < 5; i++) p.onTransaction(httpTx({ role: 'client', tuple: { ...clientTuple(42000 + i), remotePort: 9000 + i } }));
  assert.deepEqual(released, [9000, 9001], 'hold queue capped at the span queue size; oldest first');
  assert.equal(telemetry.get('sockeye_nat_released_early_total'), 2);
  await p.shutdown();
  assert.deepEqual(released, [9000, 9001, 9002, 9003, 9004]);
  assert.equal(telemetry.get('sockeye_nat_late_lookups_total', { result: 'miss' }), 5);
});
