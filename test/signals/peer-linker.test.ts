import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerLinker } from '../../agent/signals/peer-linker.js';
import { SpanBuilder, type BuiltSignals } from '../../agent/signals/span-builder.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { RouteRegistry } from '../../agent/signals/route-template.js';
import { ProcessResources } from '../../agent/signals/process-resource.js';
import type { TxSpan } from '../../agent/signals/tx-span.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { httpTx, grpcTx } from './helpers/make-transaction.js';

const builder = new SpanBuilder(fromEpoch(1_700_000_000, 0), new RouteRegistry(100));
const res = new ProcessResources();
const built = (tx: Transaction) => builder.build(tx, res.get(tx.process)) as BuiltSignals;

function setup() {
  let now = 1000;
  const out: TxSpan[] = [];
  const linker = new PeerLinker((s) => out.push(s), 300, () => now);
  const offer = (tx: Transaction) => { const b = built(tx); linker.offer(tx, b.span, b.carried); return b.span; };
  return { out, linker, offer, advance: (ms: number) => { now += ms; } };
}

test('same-node HTTP/1.1 without traceparent: server (arriving first) waits and is parented to the client span', () => {
  const { out, offer, linker } = setup();
  const server = offer(httpTx({ role: 'server', connId: 1 }));
  assert.equal(out.length, 0, 'server span waits for its client side');
  const client = offer(httpTx({ role: 'client', connId: 2 }));
  assert.equal(out.length, 2);
  assert.equal(server.traceId, client.traceId);
  assert.equal(server.parentSpanContext?.spanId, client.spanId);
  assert.equal(client.parentSpanContext, undefined);
  assert.equal(linker.counters.linked, 1);
});

test('the nth exchange on a kept-alive connection pairs with the nth on the other side', () => {
  const { out, offer } = setup();
  const s1 = offer(httpTx({ role: 'client', connId: 11 }));
  const s2 = offer(httpTx({ role: 'client', connId: 11 }));
  const r1 = offer(httpTx({ role: 'server', connId: 12 }));
  const r2 = offer(httpTx({ role: 'server', connId: 12 }));
  assert.equal(out.length, 4);
  assert.equal(r1.parentSpanContext?.spanId, s1.spanId);
  assert.equal(r2.parentSpanContext?.spanId, s2.spanId);
  assert.notEqual(s1.traceId, s2.traceId);
});

test('HTTP/2 pairs by stream id, whatever the completion order', () => {
  const { offer } = setup();
  const c3 = offer(grpcTx('client', 0, { streamId: 3, connId: 21 }));
  const c1 = offer(grpcTx('client', 0, { streamId: 1, connId: 21 }));
  const s1 = offer(grpcTx('server', 0, { streamId: 1, connId: 22 }));
  const s3 = offer(grpcTx('server', 0, { streamId: 3, connId: 22 }));
  assert.equal(s1.parentSpanContext?.spanId, c1.spanId);
  assert.equal(s3.parentSpanContext?.spanId, c3.spanId);
});

test('a server span whose client never shows up is emitted unlinked after the wait, and counted', () => {
  const { out, offer, linker, advance } = setup();
  const s = offer(httpTx({ role: 'server', connId: 31 }));
  linker.tick();
  assert.equal(out.length, 0);
  advance(301);
  linker.tick();
  assert.deepEqual(out, [s]);
  assert.equal(s.parentSpanContext, undefined);
  assert.match(s.traceId, /^[0-9a-f]{32}$/);
  assert.equal(linker.counters.waitedUnlinked, 1);
});

test('a server span from a remote peer is not held', () => {
  const { out, offer } = setup();
  offer(httpTx({ role: 'server', connId: 41, tuple: { family: 4, transport: 'tcp', localAddr: '10.0.0.1', localPort: 80, remoteAddr: '198.18.5.5', remotePort: 40000 } }));
  assert.equal(out.length, 1);
});

test('traceparent: server joins the carried trace under the carried parent; client takes the carried ids', () => {
  const { out, offer } = setup();
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const server = offer(httpTx({ role: 'server', headers: { traceparent: tp } }));
  const client = offer(httpTx({ role: 'client', headers: { traceparent: tp } }));
  assert.equal(out.length, 2, 'no waiting when the trace is carried');
  assert.equal(server.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(server.parentSpanContext?.spanId, '00f067aa0ba902b7');
  assert.notEqual(server.spanId, '00f067aa0ba902b7');
  assert.equal(client.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(client.spanId, '00f067aa0ba902b7');
  assert.equal(server.parentSpanContext?.spanId, client.spanId, 'the pair lines up as in the service-graph model');
});
