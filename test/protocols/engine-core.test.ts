// The engine's own duties: options, dispatch by verdict, bounds, eviction, failure containment and
// the h2c hand-over. Real HTTP/1.1 parsing is used throughout; the few parsers defined here are test
// parsers that exist to observe or to fail on purpose (a faulty parser is the thing under test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureEvent, DataEvent } from '../../agent/capture/capture-events.js';
import type { ConnectionParser, ProtocolSwitch } from '../../agent/protocols/protocol-parser.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import { ParserRegistry } from '../../agent/protocols/engine/parser-registry.js';
import { defaultEngineOptions, EngineOptionsError, resolveEngineOptions } from '../../agent/protocols/engine/engine-options.js';
import { createHttp1Parser } from '../../agent/protocols/http1/http1-connection-parser.js';
import { EventScript, runEngine } from './helpers/engine-event-script.js';

const http1Only = () => new ParserRegistry().register('http1', createHttp1Parser);
const exchange = (s: EventScript, path: string) => s.data('egress', `GET ${path} HTTP/1.1\r\n\r\n`).data('ingress', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');

test('options: defaults fill in; a bad key or value is named with the reason', () => {
  assert.deepEqual(resolveEngineOptions(undefined), defaultEngineOptions);
  assert.equal(resolveEngineOptions({ maxConnections: 10 }).maxConnections, 10);
  assert.throws(() => resolveEngineOptions({ maxConections: 1 } as never), (e: unknown) => e instanceof EngineOptionsError && /'maxConections': unknown option/.test(e.message));
  assert.throws(() => resolveEngineOptions({ requestTimeoutNs: -5 }), /'requestTimeoutNs': must be a positive finite number, got -5/);
  assert.throws(() => resolveEngineOptions({ maxHeaderBytes: 1e9 }), /'maxHeaderBytes': must not exceed maxBufferedBytesPerConnection/);
  assert.throws(() => new ProtocolEngine({ maxPendingRequests: Number.NaN }, () => {}), /maxPendingRequests/);
});

test('unknown verdict: data is ignored and counted until the kernel names the protocol', () => {
  const s = new EventScript(1, 'client', 'unknown');
  exchange(s, '/unseen');
  const later = new EventScript(1, 'client', 'http1');
  (later as unknown as { offsets: Record<string, number> }).offsets = { egress: 24, ingress: 38 };
  exchange(later, '/seen');
  const { txs, counters } = runEngine([...s.events, ...later.events]);
  assert.deepEqual(txs.map((t) => t.http!.request.path), ['/seen']);
  assert.equal(counters.engine_unknown_protocol_events, 2);
  assert.equal(counters.engine_unknown_protocol_bytes, 'GET /unseen HTTP/1.1\r\n\r\n'.length + 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'.length);
  assert.equal(counters.http1_midstream_starts, 2, 'the parser knows it started mid-stream');
});

test('a protocol without a registered parser is counted and not parsed', () => {
  const txs: Transaction[] = [];
  const engine = new ProtocolEngine(undefined, (tx) => txs.push(tx), new ParserRegistry());
  const s = new EventScript(3, 'client', 'http1');
  exchange(s, '/x');
  engine.push(s.events);
  assert.equal(txs.length, 0);
  assert.equal(engine.counters().engine_no_parser_connections, 1);
  assert.equal(engine.counters().engine_opaque_bytes, 'GET /x HTTP/1.1\r\n\r\n'.length + 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'.length);
});

test('connection bound: the least recently active connection is evicted, its requests end, marked evicted', () => {
  const txs: Transaction[] = [];
  const engine = new ProtocolEngine({ maxConnections: 2 }, (tx) => txs.push(tx), http1Only());
  const a = new EventScript(1), b = new EventScript(2), c = new EventScript(3);
  engine.push(a.data('egress', 'GET /a HTTP/1.1\r\n\r\n').events);
  engine.push(b.data('egress', 'GET /b HTTP/1.1\r\n\r\n').events);
  engine.push([a.data('egress', 'GET /a2 HTTP/1.1\r\n\r\n').events.at(-1)!]); // a is now the most recent
  engine.push(c.data('egress', 'GET /c HTTP/1.1\r\n\r\n').events);
  assert.equal(engine.openConnections, 2);
  assert.deepEqual(txs.map((t) => [t.connId, t.http!.request.path, t.error, t.anomalies]), [[2, '/b', 'connection_closed', ['evicted']]]);
  assert.equal(engine.counters().engine_evicted_capacity, 1);
});

test('idle connections are evicted by tick; active ones get their timeouts', () => {
  const txs: Transaction[] = [];
  const engine = new ProtocolEngine({ idleTimeoutNs: 60e9, requestTimeoutNs: 5e9 }, (tx) => txs.push(tx), http1Only());
  const s = new EventScript(7);
  engine.push(s.data('egress', 'GET /wait HTTP/1.1\r\n\r\n').events);
  engine.tick(s.tsNs + 1e9);
  assert.equal(txs.length, 0);
  engine.tick(s.tsNs + 10e9);
  assert.deepEqual(txs.map((t) => t.error), ['timeout']);
  assert.equal(engine.openConnections, 1);
  engine.tick(s.tsNs + 61e9);
  assert.equal(engine.openConnections, 0);
  assert.equal(engine.counters().engine_evicted_idle, 1);
});

test('a throwing parser is contained: counted, replaced, other connections unaffected', () => {
  let calls = 0;
  const registry = new ParserRegistry().register('http1', (conn, sink, options) => {
    const real = createHttp1Parser(conn, sink, options);
    if (conn.connId !== 66) return real;
    return { ...bind(real), onData(ev: DataEvent) { calls++; if (calls === 1) throw new Error('parser bug'); real.onData(ev); } };
  });
  const txs: Transaction[] = [];
  const engine = new ProtocolEngine(undefined, (tx) => txs.push(tx), registry);
  const bad = new EventScript(66), good = new EventScript(67);
  exchange(bad, '/bad'); exchange(bad, '/bad2');
  exchange(good, '/good');
  assert.doesNotThrow(() => engine.push([...bad.events, ...good.events]));
  assert.equal(engine.counters().http1_parser_exceptions, 1);
  assert.deepEqual(txs.map((t) => t.http!.request.path).sort(), ['/bad2', '/good']);
});

function bind(p: ConnectionParser): ConnectionParser {
  return { onData: (e) => p.onData(e), onGap: (e) => p.onGap(e), onClose: (e) => p.onClose(e), onTick: (n) => p.onTick(n), bufferedBytes: () => p.bufferedBytes() };
}

test('a throwing sink and malformed events are counted, never thrown', () => {
  let n = 0;
  const engine = new ProtocolEngine(undefined, () => { n++; throw new Error('consumer bug'); }, http1Only());
  const s = new EventScript(1);
  exchange(s, '/1'); exchange(s, '/2');
  const junk = [null, { kind: 'data', connId: 9 }, { kind: 'data', connId: 10, protocol: 'http1', direction: 'egress', bytes: 'not bytes', totalBytes: 3, offset: 0, tsNs: 1 }];
  assert.doesNotThrow(() => engine.push([...(junk as unknown as CaptureEvent[]), ...s.events]));
  assert.equal(n, 2);
  const c = engine.counters();
  assert.equal(c.engine_sink_errors, 2);
  assert.equal(c.engine_bad_events, 3);
  assert.equal(c.http1_parser_exceptions, undefined);
});

test('buffer bound: a parser holding too much is told to drop it as a loss', () => {
  let gaps = 0;
  const registry = new ParserRegistry().register('http1', () => ({
    onData() {}, onGap() { gaps++; }, onClose() {}, onTick() {}, bufferedBytes: () => (gaps === 0 ? 1e9 : 0),
  }));
  const engine = new ProtocolEngine(undefined, () => {}, registry);
  engine.push(exchange(new EventScript(1), '/x').events);
  assert.equal(gaps, 1);
  assert.equal(engine.counters().engine_buffer_overflows, 1);
});

const h2cRequest = 'GET /h2 HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n';
const h2cResponse = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n';
const serverSettings = Buffer.from('000000040000000000', 'hex');

test('h2c upgrade: the HTTP/2 parser takes over with the upgraded request and the bytes after the 101', () => {
  const seen: { handover?: ProtocolSwitch; data: string[] } = { data: [] };
  const registry = http1Only().register('http2', (_conn, _sink, _options, handover) => {
    seen.handover = handover;
    return { onData(ev) { seen.data.push(`${ev.direction}:${Buffer.from(ev.bytes).toString('hex')}`); }, onGap() {}, onClose() {}, onTick() {}, bufferedBytes: () => 0 };
  });
  const engine = new ProtocolEngine(undefined, () => {}, registry);
  const s = new EventScript(1);
  s.data('egress', h2cRequest).data('ingress', Buffer.concat([Buffer.from(h2cResponse), serverSettings]));
  s.data('egress', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  engine.push(s.events);
  assert.equal(seen.handover?.to, 'http2');
  assert.equal(seen.handover?.upgradeRequest?.request.path, '/h2');
  assert.equal(seen.handover?.upgradeRequest?.requestBytes, h2cRequest.length);
  assert.deepEqual(seen.data, [`ingress:${serverSettings.toString('hex')}`, `egress:${Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n').toString('hex')}`]);
  // The carried bytes are a copy: the capture may reuse its batch buffer.
  const carried = seen.handover!.carry[0]!.bytes;
  (s.events[1] as DataEvent).bytes.fill(0);
  assert.equal(Buffer.from(carried).toString('hex'), serverSettings.toString('hex'));
  assert.equal(engine.counters().engine_switch_to_http2, 1);
});

test('h2c upgrade without an HTTP/2 parser still reports the request, flagged', () => {
  const txs: Transaction[] = [];
  const engine = new ProtocolEngine(undefined, (tx) => txs.push(tx), http1Only());
  const s = new EventScript(1);
  s.data('egress', h2cRequest).data('ingress', h2cResponse);
  engine.push(s.events);
  assert.deepEqual(txs.map((t) => [t.http!.request.path, t.http!.response?.status, t.anomalies]), [['/h2', 101, ['h2c_not_parsed']]]);
  assert.equal(engine.counters().engine_upgrade_unsupported, 1);
});

test('many connections: the table stays bounded and every request is still reported', () => {
  const txs: Transaction[] = [];
  const engine = new ProtocolEngine({ maxConnections: 100 }, (tx) => txs.push(tx), http1Only());
  for (let id = 1; id <= 5000; id++) engine.push(new EventScript(id).data('egress', `GET /c${id} HTTP/1.1\r\n\r\n`).events);
  assert.equal(engine.openConnections, 100);
  assert.equal(engine.counters().engine_evicted_capacity, 4900);
  assert.equal(txs.length, 4900);
  assert.ok(txs.every((t) => t.error === 'connection_closed' && t.anomalies.includes('evicted')));
  engine.tick(Number.MAX_SAFE_INTEGER);
  assert.equal(engine.openConnections, 0);
  assert.equal(txs.length, 5000, 'the last 100 end when they are evicted as idle');
  assert.deepEqual(new Set(txs.map((t) => t.http!.request.path)).size, 5000);
});
