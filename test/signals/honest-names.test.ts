// Honest names: when the method, path or query type could not be decoded from the captured bytes,
// the span is named after its protocol alone (HTTP, grpc, DNS), never a plausible fake such as `/`
// or `DNS `, lists what is missing in sockeye.decode.incomplete, and is counted on /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanBuilder, type BuiltSignals } from '../../agent/signals/span-builder.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { RouteRegistry } from '../../agent/signals/route-template.js';
import { ProcessResources } from '../../agent/signals/process-resource.js';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { dnsTx, grpcTx, httpTx } from './helpers/make-transaction.js';

const clock = fromEpoch(1_700_000_000, 0);
const resources = new ProcessResources();
const INCOMPLETE = 'sockeye.decode.incomplete';

function build(tx: Transaction): BuiltSignals {
  const b = new SpanBuilder(clock, new RouteRegistry(100)).build(tx, resources.get(tx.process));
  assert.notEqual(typeof b, 'string', `skipped: ${String(b)}`);
  return b as BuiltSignals;
}

/** An HTTP/2 request whose header block could not be decoded (HPACK entries never seen). */
function undecodedH2(role: 'client' | 'server', over: { method?: string; target?: string } = {}): Transaction {
  const tx = httpTx({ role, method: over.method ?? '', target: over.target ?? '', status: 200 });
  tx.protocol = 'http2';
  tx.http!.request.version = '2';
  delete tx.http!.request.host;
  return tx;
}

/** A gRPC call whose :path could not be decoded (the parser leaves service and method empty). */
function undecodedGrpc(role: 'client' | 'server', status: number): Transaction {
  const tx = grpcTx(role, status);
  tx.grpc = { ...tx.grpc!, service: '', method: '' };
  return tx;
}

test('HTTP server, method and path undecoded: named HTTP, _OTHER, no path or route, both listed', () => {
  const b = build(undecodedH2('server'));
  assert.equal(b.span.name, 'HTTP');
  assert.equal(b.span.attributes['http.request.method'], '_OTHER');
  assert.equal(b.span.attributes['http.request.method_original'], undefined, 'no empty "original" method');
  assert.equal(b.span.attributes['url.path'], undefined);
  assert.equal(b.span.attributes['http.route'], undefined, 'no fake / route');
  assert.deepEqual(b.span.attributes[INCOMPLETE], ['http.request.method', 'url.path']);
  assert.equal(b.metric.attributes['http.route'], undefined, 'no fake route in the RED series either');
  assert.deepEqual(b.incomplete, ['http.request.method', 'url.path']);
});

test('HTTP server, known method but path undecoded: named by the method alone, path listed', () => {
  const b = build(undecodedH2('server', { method: 'GET' }));
  assert.equal(b.span.name, 'GET');
  assert.equal(b.span.attributes['http.request.method'], 'GET');
  assert.deepEqual(b.span.attributes[INCOMPLETE], ['url.path']);
  assert.notEqual(b.operation, 'GET /');
});

test('HTTP client, target undecoded: no url.full made up from the host alone', () => {
  const b = build(undecodedH2('client', { method: 'POST' }));
  assert.equal(b.span.name, 'POST');
  assert.equal(b.span.attributes['url.full'], undefined);
  assert.equal(b.span.attributes['server.port'], 8080);
  assert.deepEqual(b.span.attributes[INCOMPLETE], ['url.full']);
});

test('an unknown but decoded HTTP method is not incomplete: _OTHER with the original kept', () => {
  const b = build(httpTx({ method: 'BREW' }));
  assert.equal(b.span.name, 'HTTP');
  assert.equal(b.span.attributes['http.request.method_original'], 'BREW');
  assert.equal(b.span.attributes[INCOMPLETE], undefined);
  assert.equal(b.incomplete, undefined);
});

test('gRPC, :path undecoded: named grpc (semconv: rpc.system.name), rpc.method _OTHER, status kept', () => {
  for (const role of ['client', 'server'] as const) {
    const b = build(undecodedGrpc(role, 5));
    assert.equal(b.span.name, 'grpc', role);
    assert.notEqual(b.span.name, '/');
    assert.equal(b.span.attributes['rpc.method'], '_OTHER');
    assert.equal(b.span.attributes['rpc.method_original'], undefined);
    assert.equal(b.span.attributes['rpc.status_code'], 'NOT_FOUND');
    assert.deepEqual(b.span.attributes[INCOMPLETE], ['rpc.method']);
    assert.equal(b.metric.attributes['rpc.method'], '_OTHER');
  }
});

test('gRPC, a path that is not /package.Service/Method: _OTHER with the original, not incomplete', () => {
  const tx = grpcTx('server', 0);
  tx.grpc = { ...tx.grpc!, service: '', method: 'health' };
  tx.http = { request: { method: 'POST', target: '/health', path: '/health', version: '2' } };
  const b = build(tx);
  assert.equal(b.span.name, 'grpc');
  assert.equal(b.span.attributes['rpc.method'], '_OTHER');
  assert.equal(b.span.attributes['rpc.method_original'], '/health');
  assert.equal(b.span.attributes[INCOMPLETE], undefined);
});

test('DNS, question undecoded: named DNS (not "DNS "), no empty type or name, both listed', () => {
  const tx = dnsTx('NOERROR');
  tx.dns = { ...tx.dns!, qname: '', qtype: '', qclass: '' };
  const b = build(tx);
  assert.equal(b.span.name, 'DNS');
  assert.equal(b.span.attributes['dns.question.type'], undefined);
  assert.equal(b.span.attributes['dns.question.name'], undefined);
  assert.equal(b.metric.attributes['dns.question.name'], undefined);
  assert.deepEqual(b.span.attributes[INCOMPLETE], ['dns.question.name', 'dns.question.type']);
});

test('decoded exchanges carry no incomplete marker', () => {
  for (const tx of [httpTx({}), httpTx({ role: 'client' }), grpcTx('client', 0), dnsTx('NOERROR')]) {
    const b = build(tx);
    assert.equal(b.span.attributes[INCOMPLETE], undefined, b.span.name);
    assert.equal(b.incomplete, undefined);
  }
});

test('counted on /metrics by protocol and missing attribute', () => {
  const telemetry = new TelemetryRegistry();
  const p = new SignalPipeline({ telemetry, clock, linkWaitMs: 0, onSpan: () => undefined });
  p.onTransaction(undecodedGrpc('client', 0));
  p.onTransaction(undecodedGrpc('client', 0));
  p.onTransaction(undecodedH2('server'));
  p.onTransaction(httpTx({}));
  const name = 'sockeye_spans_decode_incomplete_total';
  assert.equal(telemetry.get(name, { protocol: 'grpc', field: 'rpc.method' }), 2);
  assert.equal(telemetry.get(name, { protocol: 'http2', field: 'http.request.method' }), 1);
  assert.equal(telemetry.get(name, { protocol: 'http2', field: 'url.path' }), 1);
  assert.match(telemetry.render(), /sockeye_spans_decode_incomplete_total\{protocol="grpc",field="rpc.method"\} 2/);
});
