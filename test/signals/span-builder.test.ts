import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SpanBuilder, type BuiltSignals } from '../../agent/signals/span-builder.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { RouteRegistry } from '../../agent/signals/route-template.js';
import { ProcessResources } from '../../agent/signals/process-resource.js';
import { METRIC } from '../../common/semconv/semconv.js';
import { dnsTx, grpcTx, httpTx } from './helpers/make-transaction.js';
import type { Transaction } from '../../agent/protocols/transaction.js';

const clock = fromEpoch(1_700_000_000, 0);
const resources = new ProcessResources();
function build(tx: Transaction): BuiltSignals {
  const b = new SpanBuilder(clock, new RouteRegistry(100)).build(tx, resources.get(tx.process));
  assert.notEqual(typeof b, 'string', `skipped: ${String(b)}`);
  return b as BuiltSignals;
}

test('HTTP server span: name from templated route, semconv attributes, kernel times on the wall clock', () => {
  const b = build(httpTx({ target: '/users/42?page=2', headers: { userAgent: 'curl/8' } }));
  const s = b.span;
  assert.equal(s.kind, SpanKind.SERVER);
  assert.equal(s.name, 'GET /users/{id}');
  assert.equal(s.attributes['http.route'], '/users/{id}');
  assert.equal(s.attributes['url.path'], '/users/42');
  assert.equal(s.attributes['url.query'], 'page=2');
  assert.equal(s.attributes['http.response.status_code'], 200);
  assert.equal(s.attributes['server.port'], 8080);
  assert.equal(s.attributes['client.address'], '127.0.0.1');
  assert.equal(s.attributes['network.peer.port'], 50000);
  assert.equal(s.attributes['network.protocol.version'], '1.1');
  assert.equal(s.attributes['user_agent.original'], 'curl/8');
  assert.equal(s.status.code, SpanStatusCode.UNSET);
  assert.deepEqual(s.startTime, [1_700_000_001, 0]);
  assert.deepEqual(s.endTime, [1_700_000_001, 25_000_000]);
  assert.equal(b.metric.name, METRIC.httpServer);
  assert.equal(b.metric.seconds, 0.025);
  assert.deepEqual(b.metric.attributes, { 'http.request.method': 'GET', 'network.protocol.version': '1.1', 'http.route': '/users/{id}', 'url.scheme': 'http', 'http.response.status_code': 200 });
});

test('HTTP status rules: 5xx is an error on both sides, 4xx only on the client', () => {
  const s500 = build(httpTx({ status: 500 })).span;
  assert.equal(s500.status.code, SpanStatusCode.ERROR);
  assert.equal(s500.attributes['error.type'], '500');
  const s404server = build(httpTx({ status: 404 })).span;
  assert.equal(s404server.status.code, SpanStatusCode.UNSET);
  assert.equal(s404server.attributes['error.type'], undefined);
  const c404 = build(httpTx({ status: 404, role: 'client' }));
  assert.equal(c404.span.kind, SpanKind.CLIENT);
  assert.equal(c404.span.name, 'GET');
  assert.equal(c404.span.status.code, SpanStatusCode.ERROR);
  assert.equal(c404.span.attributes['error.type'], '404');
  assert.equal(c404.metric.attributes['error.type'], '404');
  assert.equal(c404.metric.name, METRIC.httpClient);
});

test('HTTP without a response: error with the engine\'s reason', () => {
  const b = build(httpTx({ error: 'connection_closed' }));
  assert.equal(b.span.status.code, SpanStatusCode.ERROR);
  assert.equal(b.span.attributes['error.type'], 'connection_closed');
  assert.equal(b.span.attributes['http.response.status_code'], undefined);
});

test('capture loss is not an error: no outcome because bytes were lost → no error.type, marked, RED without status', () => {
  const http = build(httpTx({ error: 'gap' }));
  assert.equal(http.span.status.code, SpanStatusCode.UNSET);
  assert.equal(http.span.attributes['error.type'], undefined);
  assert.equal(http.span.attributes['sockeye.capture.incomplete'], true);
  assert.equal(http.isError, false);
  assert.equal(http.lost, 'capture_gap');
  assert.deepEqual(http.metric.attributes, { 'http.request.method': 'GET', 'network.protocol.version': '1.1', 'http.route': '/users/{id}', 'url.scheme': 'http' });
  // HTTP/2 / gRPC: a stream that saw a gap and then its connection close has no known outcome either.
  const grpc = build(grpcTx('client', undefined, { error: 'connection_closed', anomalies: ['gap'] }));
  assert.equal(grpc.span.attributes['error.type'], undefined);
  assert.equal(grpc.span.attributes['sockeye.capture.incomplete'], true);
  assert.equal(grpc.metric.attributes['error.type'], undefined);
  assert.equal(grpc.metric.attributes['rpc.response.status_code'], undefined);
  // A reset stream is an outcome (CANCELLED), whatever was lost before it.
  const reset = build(grpcTx('client', undefined, { error: 'stream_reset', anomalies: ['gap'] }));
  assert.equal(reset.span.attributes['error.type'], 'CANCELLED');
  // DNS: an unanswered query whose answer may have been lost by the capture.
  const dns = build({ ...dnsTx(undefined, 'timeout'), anomalies: ['gap'] });
  assert.equal(dns.span.attributes['error.type'], undefined);
  assert.equal(dns.span.attributes['sockeye.capture.incomplete'], true);
  // Control: with nothing lost, a missing outcome stays the engine's error.
  assert.equal(build(dnsTx(undefined, 'timeout')).span.attributes['error.type'], 'timeout');
  assert.equal(build(grpcTx('client', undefined, { error: 'connection_closed' })).span.attributes['error.type'], 'connection_closed');
});

test('unknown method becomes _OTHER with name HTTP and the original kept', () => {
  const s = build(httpTx({ method: 'FROB' })).span;
  assert.equal(s.name, 'HTTP');
  assert.equal(s.attributes['http.request.method'], '_OTHER');
  assert.equal(s.attributes['http.request.method_original'], 'FROB');
});

test('client span: url.full with credentials as REDACTED:REDACTED (semconv) and secret query values redacted', () => {
  const b = build(httpTx({ role: 'client', target: 'http://alice:s3cret@api.test/v1/items?access_token=abc123&q=shoes&api_key=k', headers: { host: 'api.test' } }));
  const url = String(b.span.attributes['url.full']);
  assert.equal(url, 'http://REDACTED:REDACTED@api.test/v1/items?access_token=REDACTED&q=shoes&api_key=REDACTED');
  assert.equal(b.span.attributes['server.address'], 'api.test');
  const origin = build(httpTx({ role: 'client', target: '/login?password=hunter2&user=bob', headers: { host: 'svc:8080' } }));
  assert.equal(origin.span.attributes['url.full'], 'http://svc:8080/login?password=REDACTED&user=bob');
  assert.equal(origin.span.attributes['server.address'], 'svc');
  const all = JSON.stringify([b.span.attributes, origin.span.attributes]);
  for (const secret of ['s3cret', 'abc123', 'hunter2', 'alice']) assert.ok(!all.includes(secret), `leaked ${secret}`);
});

test('server span: secret query values redacted in url.query', () => {
  const s = build(httpTx({ target: '/cb?code=xyz&state=1&token=t0k' })).span;
  assert.equal(s.attributes['url.query'], 'code=REDACTED&state=1&token=REDACTED');
});

test('gRPC: name is package.Service/Method; server errors only for the server error codes; clients for any non-OK', () => {
  const ok = build(grpcTx('server', 0));
  assert.equal(ok.span.name, 'demo.Greeter/SayHello');
  assert.equal(ok.span.attributes['rpc.system.name'], 'grpc');
  assert.equal(ok.span.attributes['rpc.method'], 'demo.Greeter/SayHello');
  assert.equal(ok.span.attributes['rpc.status_code'], 'OK');
  assert.equal(ok.span.status.code, SpanStatusCode.UNSET);
  assert.equal(ok.metric.name, METRIC.rpcServer);
  const notFoundServer = build(grpcTx('server', 5));
  assert.equal(notFoundServer.span.attributes['rpc.status_code'], 'NOT_FOUND');
  assert.equal(notFoundServer.span.status.code, SpanStatusCode.UNSET);
  const notFoundClient = build(grpcTx('client', 5));
  assert.equal(notFoundClient.span.status.code, SpanStatusCode.ERROR);
  assert.equal(notFoundClient.span.attributes['error.type'], 'NOT_FOUND');
  assert.equal(notFoundClient.metric.name, METRIC.rpcClient);
  const internal = build(grpcTx('server', 13));
  assert.equal(internal.span.status.code, SpanStatusCode.ERROR);
  assert.equal(internal.span.attributes['error.type'], 'INTERNAL');
  const reset = build(grpcTx('client', undefined, { error: 'stream_reset' }));
  assert.equal(reset.span.attributes['rpc.status_code'], 'CANCELLED');
  assert.equal(reset.span.status.code, SpanStatusCode.ERROR);
});

test('DNS: CLIENT span DNS {qtype}; NXDOMAIN and timeout are errors', () => {
  const ok = build(dnsTx('NOERROR'));
  assert.equal(ok.span.name, 'DNS A');
  assert.equal(ok.span.kind, SpanKind.CLIENT);
  assert.equal(ok.span.attributes['dns.question.name'], 'example.test');
  assert.equal(ok.span.attributes['dns.response_code'], 'NOERROR');
  assert.deepEqual(ok.span.attributes['dns.answers'], ['198.18.0.7']);
  assert.equal(ok.span.status.code, SpanStatusCode.UNSET);
  assert.equal(ok.metric.name, METRIC.dnsLookup);
  const nx = build(dnsTx('NXDOMAIN'));
  assert.equal(nx.span.status.code, SpanStatusCode.ERROR);
  assert.equal(nx.span.attributes['error.type'], 'NXDOMAIN');
  const to = build(dnsTx(undefined, 'timeout'));
  assert.equal(to.span.status.code, SpanStatusCode.ERROR);
  assert.equal(to.span.attributes['error.type'], 'timeout');
  const gaveUp = build({ ...dnsTx(undefined), error: 'connection_closed' }); // the client closed before any answer
  assert.equal(gaveUp.span.attributes['error.type'], 'timeout');
});

test('skips are reasons, not exceptions', () => {
  const b = new SpanBuilder(clock, new RouteRegistry(10));
  const who = resources.get(httpTx({}).process);
  assert.equal(b.build({ ...httpTx({}), role: 'unknown' }, who), 'unknown_role');
  assert.equal(b.build({ ...dnsTx('NOERROR'), role: 'server' }, who), 'dns_server_side');
  assert.equal(b.build({ ...httpTx({}), http: undefined }, who), 'incomplete');
});
