// HTTP/1.1 through the real engine: every framing rule of the issue, with hand-written byte streams
// (the recorded ones are in http1-fixtures.test.ts). Events are built as the capture reports them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventScript, runEngine } from './helpers/engine-event-script.js';

const ok = (len: number, extra = '') => `HTTP/1.1 200 OK\r\nContent-Length: ${len}\r\n${extra}\r\n` + 'b'.repeat(len);
const summary = (txs: ReturnType<typeof runEngine>['txs']) => txs.map((t) => `${t.http!.request.method} ${t.http!.request.target} ${t.http!.response?.status ?? t.error}`);

test('request fields are extracted; credentials are recorded by name only', () => {
  const s = new EventScript();
  s.data('egress', 'GET /api/items?id=7&x=y HTTP/1.1\r\nHost: shop.local:8080\r\nUser-Agent: curl/7.88\r\n' +
    'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\ntracestate: vendor=abc\r\n' +
    'Authorization: Bearer SECRET-TOKEN\r\nCookie: session=SECRET-COOKIE\r\nContent-Length: 0\r\n\r\n');
  s.data('ingress', 'HTTP/1.1 200 OK\r\nSet-Cookie: id=SECRET-SET\r\nContent-Length: 2\r\n\r\nhi');
  const { txs } = runEngine(s.events);
  assert.equal(txs.length, 1);
  const tx = txs[0]!;
  const req = tx.http!.request;
  assert.deepEqual({ method: req.method, path: req.path, query: req.query, host: req.host, ua: req.userAgent, cl: req.contentLength, version: req.version },
    { method: 'GET', path: '/api/items', query: 'id=7&x=y', host: 'shop.local:8080', ua: 'curl/7.88', cl: 0, version: '1.1' });
  assert.equal(req.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  assert.equal(req.tracestate, 'vendor=abc');
  assert.deepEqual(req.sensitiveHeaders, ['authorization', 'cookie']);
  assert.equal(tx.http!.response!.status, 200);
  assert.equal(tx.role, 'client');
  const text = JSON.stringify(tx, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  assert.ok(!text.includes('SECRET'), 'no credential value may be kept');
  assert.equal(tx.startNs, s.events[0]!.tsNs);
  assert.equal(tx.endNs, s.events[1]!.tsNs);
  assert.equal(tx.responseBytes, (s.events[1] as { totalBytes: number }).totalBytes);
});

test('a head split at every byte boundary, and bodies split too, parse the same', () => {
  const req = 'POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world';
  const resp = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\nX-Trailer: t\r\n\r\n';
  for (let i = 1; i < req.length; i++) {
    for (const j of [1, 7, 20, resp.length - 3]) {
      const s = new EventScript();
      s.data('egress', req.slice(0, i)).data('egress', req.slice(i));
      s.data('ingress', resp.slice(0, j)).data('ingress', resp.slice(j));
      const { txs, counters } = runEngine(s.events);
      assert.deepEqual(summary(txs), ['POST /upload 201'], `split ${i}/${j}`);
      assert.equal(txs[0]!.requestBytes, req.length);
      assert.equal(txs[0]!.responseBytes, resp.length);
      assert.equal(counters.http1_parse_errors, undefined);
    }
  }
  // one byte per event
  const s = new EventScript();
  for (const ch of req) s.data('egress', ch);
  for (const ch of resp) s.data('ingress', ch);
  assert.deepEqual(summary(runEngine(s.events).txs), ['POST /upload 201']);
});

test('keep-alive: Content-Length, chunked with extensions and trailers, then end-of-body by close', () => {
  const s = new EventScript();
  s.data('egress', 'GET /1 HTTP/1.1\r\n\r\n').data('ingress', ok(5));
  s.data('egress', 'GET /2 HTTP/1.1\r\n\r\n').data('ingress', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;name=v\r\nabc\r\nA\r\n0123456789\r\n0\r\nChecksum: x\r\nOther: y\r\n\r\n');
  s.data('egress', 'GET /3 HTTP/1.1\r\n\r\n').data('ingress', 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until');
  s.data('ingress', ' the connection closes');
  s.close();
  const { txs } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['GET /1 200', 'GET /2 200', 'GET /3 200']);
  assert.equal(txs[2]!.error, undefined);
  assert.equal(txs[2]!.responseBytes, 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until the connection closes'.length);
  assert.equal(txs[2]!.endNs, s.events[6]!.tsNs, 'ends at the last byte, not at the close');
});

test('pipelining: N requests before their responses pair in order, in one or many events', () => {
  const n = 5;
  let reqs = '', resps = '';
  for (let i = 0; i < n; i++) {
    reqs += `GET /p${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
    resps += `HTTP/1.1 ${200 + i} OK\r\nContent-Length: ${i}\r\n\r\n${'z'.repeat(i)}`;
  }
  const s = new EventScript();
  s.data('egress', reqs).data('ingress', resps.slice(0, 50)).data('ingress', resps.slice(50));
  const { txs } = runEngine(s.events);
  assert.deepEqual(summary(txs), [0, 1, 2, 3, 4].map((i) => `GET /p${i} ${200 + i}`));
});

test('1xx interim responses (100-continue, 103) do not consume the request', () => {
  const s = new EventScript();
  s.data('egress', 'PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
  s.data('ingress', 'HTTP/1.1 100 Continue\r\n\r\n');
  s.data('egress', 'data');
  s.data('ingress', 'HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
  s.data('egress', 'GET /next HTTP/1.1\r\n\r\n').data('ingress', ok(1));
  const { txs, counters } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['PUT /f 201', 'GET /next 200']);
  assert.equal(txs[0]!.requestBytes, 'PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n'.length + 4);
  assert.equal(counters.http1_interim_responses, 2);
});

test('HEAD, 204 and 304 responses have no body even with Content-Length', () => {
  const s = new EventScript();
  s.data('egress', 'HEAD /h HTTP/1.1\r\n\r\nGET /n HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n');
  s.data('ingress', 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'HTTP/1.1 204 No Content\r\n\r\n' +
    'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n' + ok(3));
  assert.deepEqual(summary(runEngine(s.events).txs), ['HEAD /h 200', 'GET /n 204', 'GET /c 304', 'GET /after 200']);
});

test('websocket upgrade: the 101 is reported, then the connection is not parsed', () => {
  const s = new EventScript();
  s.data('egress', 'GET /chat HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\n\r\n');
  s.data('ingress', 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello');
  // Frames whose payload looks like HTTP must not be parsed as HTTP.
  s.data('egress', '\x81\x85GET / HTTP/1.1\r\n\r\n').data('ingress', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  const { txs, counters } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['GET /chat 101']);
  assert.equal(counters.engine_switch_to_opaque, 1);
  assert.ok(counters.engine_opaque_bytes! > 0);
});

test('CONNECT 200 opens a tunnel; a refused CONNECT does not', () => {
  const s = new EventScript();
  s.data('egress', 'CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n').data('ingress', 'HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\n');
  s.data('egress', 'CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n').data('ingress', 'HTTP/1.1 200 Connection established\r\n\r\n');
  s.data('egress', '\x16\x03\x01 tls bytes GET / HTTP/1.1\r\n\r\n').data('ingress', 'HTTP/1.1 200 OK\r\n\r\n');
  assert.deepEqual(summary(runEngine(s.events).txs), ['CONNECT db:5432 407', 'CONNECT db:5432 200']);
});

test('bodies beyond the capture cap are skipped by count (Content-Length and chunk data)', () => {
  const s = new EventScript();
  s.data('egress', 'POST /big HTTP/1.1\r\nContent-Length: 100000\r\n\r\n' + 'q'.repeat(100000), 64);
  s.data('ingress', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n' + 'r'.repeat(0x10000), 80);
  s.data('ingress', '\r\n0\r\n\r\n');
  s.data('egress', 'GET /small HTTP/1.1\r\n\r\n').data('ingress', ok(2));
  const { txs, counters } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['POST /big 200', 'GET /small 200']);
  assert.equal(txs[0]!.requestBytes, 'POST /big HTTP/1.1\r\nContent-Length: 100000\r\n\r\n'.length + 100000);
  assert.deepEqual(txs[0]!.anomalies, []);
  assert.equal(counters.http1_resyncs, undefined);
});

test('a head cut by the capture cap is degraded, reported, and the stream resynchronises', () => {
  const s = new EventScript();
  s.data('egress', 'GET /cut HTTP/1.1\r\nHost: a\r\nX-Long: ' + 'v'.repeat(500) + '\r\n\r\n', 40);
  s.data('ingress', ok(4));
  s.data('egress', 'GET /ok HTTP/1.1\r\n\r\n').data('ingress', ok(1));
  const { txs, counters } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['GET /cut 200', 'GET /ok 200']);
  assert.deepEqual(txs[0]!.anomalies, ['headers_truncated']);
  assert.equal(txs[0]!.http!.request.host, 'a');
  assert.equal(counters.http1_degraded_heads, 1);
});

test('a gap inside a known-length body is skipped without resynchronisation', () => {
  const s = new EventScript();
  s.data('egress', 'GET /g HTTP/1.1\r\n\r\n');
  s.data('ingress', 'HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n' + 'a'.repeat(1000));
  s.gap('ingress', 1000).data('ingress', 'c'.repeat(1000));
  s.data('egress', 'GET /h HTTP/1.1\r\n\r\n').data('ingress', ok(1));
  const { txs, counters } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['GET /g 200', 'GET /h 200']);
  assert.equal(counters.http1_gap_bytes_skipped, 1000);
  assert.equal(counters.http1_framing_losses, undefined);
});

test('a gap that swallows a response head ends its request as gap; the next exchange pairs correctly', () => {
  const resp1 = 'HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n' + 'x'.repeat(30);
  const s = new EventScript();
  s.data('egress', 'GET /1 HTTP/1.1\r\n\r\n');
  s.gap('ingress', 20).data('ingress', resp1.slice(20));
  s.data('egress', 'GET /2 HTTP/1.1\r\n\r\n').data('ingress', 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  const { txs, counters } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['GET /1 gap', 'GET /2 404']);
  assert.equal(counters.http1_resyncs, 1);
});

test('a gap that swallows a whole request: its response is not paired with the next request', () => {
  const s = new EventScript();
  s.data('egress', 'GET /1 HTTP/1.1\r\n\r\n').data('ingress', ok(1));
  s.gap('egress', 30).data('ingress', 'HTTP/1.1 500 Lost\r\nContent-Length: 0\r\n\r\n');
  s.data('egress', 'GET /3 HTTP/1.1\r\n\r\n').data('ingress', 'HTTP/1.1 202 OK\r\nContent-Length: 0\r\n\r\n');
  const { txs, counters } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['GET /1 200', 'GET /3 202']);
  assert.equal(counters.http1_unmatched_responses, 1);
});

test('pipelining plus loss: the connection stops pairing rather than pair wrongly', () => {
  const s = new EventScript();
  s.data('egress', 'GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n');
  s.data('ingress', ok(1) + ok(2));
  s.data('egress', 'GET /c HTTP/1.1\r\n\r\n');
  s.gap('egress', 40); // perhaps GET /d, pipelined
  s.data('egress', 'GET /e HTTP/1.1\r\n\r\n');
  s.data('ingress', 'HTTP/1.1 201 C\r\nContent-Length: 0\r\n\r\nHTTP/1.1 202 D\r\nContent-Length: 0\r\n\r\nHTTP/1.1 203 E\r\nContent-Length: 0\r\n\r\n');
  const { txs, counters } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['GET /a 200', 'GET /b 200', 'GET /c gap', 'GET /e gap']);
  assert.equal(counters.http1_unsynced_connections, 1);
  assert.equal(counters.http1_unpaired_responses, 3);
});

test('an unanswered request times out; its late response is skipped, not given to the next request', () => {
  const s = new EventScript();
  s.data('egress', 'GET /slow HTTP/1.1\r\n\r\n');
  const first = runEngine(s.events, { requestTimeoutNs: 1e9 });
  const { engine, txs } = first;
  engine.tick(s.tsNs + 2e9);
  assert.deepEqual(summary(txs), ['GET /slow timeout']);
  const more = new EventScript();
  more.tsNs = s.tsNs + 3e9;
  (more as unknown as { offsets: Record<string, number> }).offsets.egress = (s.events[0] as { totalBytes: number }).totalBytes;
  more.data('egress', 'GET /fast HTTP/1.1\r\n\r\n').data('ingress', 'HTTP/1.1 504 Late\r\nContent-Length: 0\r\n\r\n').data('ingress', ok(1));
  engine.push(more.events);
  assert.deepEqual(summary(txs), ['GET /slow timeout', 'GET /fast 200']);
  assert.equal(engine.counters().http1_late_responses, 1);
});

test('close ends pending requests and unfinished responses as connection_closed', () => {
  const s = new EventScript();
  s.data('egress', 'GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n');
  s.data('ingress', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
  s.close();
  const { txs } = runEngine(s.events);
  assert.deepEqual(txs.map((t) => [t.http!.request.target, t.http!.response?.status, t.error]), [['/a', 200, 'connection_closed'], ['/b', undefined, 'connection_closed']]);
});

test('server role: requests arrive on ingress; unknown role is inferred from the request line', () => {
  for (const role of ['server', 'unknown'] as const) {
    const s = new EventScript(1, role);
    s.data('ingress', 'DELETE /x/1 HTTP/1.1\r\n\r\n').data('egress', 'HTTP/1.1 204 No Content\r\n\r\n');
    const { txs } = runEngine(s.events);
    assert.deepEqual(summary(txs), ['DELETE /x/1 204'], role);
    assert.equal(txs[0]!.role, 'server');
  }
  const wrong = new EventScript(1, 'client');
  wrong.data('ingress', 'GET /x HTTP/1.1\r\n\r\n');
  assert.equal(runEngine(wrong.events).counters.http1_parse_errors, 1);
});

test('picked up mid-stream: bytes before the next message start are skipped and counted', () => {
  const s = new EventScript();
  (s as unknown as { offsets: Record<string, number> }).offsets = { egress: 5000, ingress: 9000 };
  s.data('ingress', 'tail of some body\r\n\r\n');
  s.data('egress', 'ody bytes').data('egress', 'GET /fresh HTTP/1.1\r\n\r\n').data('ingress', ok(2));
  const { txs, counters } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['GET /fresh 200']);
  assert.equal(counters.http1_midstream_starts, 2);
});

test('garbage is counted as parse errors; the next valid message is parsed', () => {
  const s = new EventScript();
  s.data('egress', '\x00\x01\x02 not http at all\r\n\r\n').data('ingress', 'HTTP/1.1 20X broken\r\n\r\n');
  s.data('egress', 'GET /ok HTTP/1.1\r\n\r\n').data('ingress', ok(0));
  const { txs, counters } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['GET /ok 200']);
  assert.ok(counters.http1_parse_errors! >= 2);
});

test('bounds: pending requests and head size', () => {
  const s = new EventScript();
  for (let i = 0; i < 5; i++) s.data('egress', `GET /${i} HTTP/1.1\r\n\r\n`);
  for (let i = 0; i < 5; i++) s.data('ingress', `HTTP/1.1 ${200 + i} OK\r\nContent-Length: 0\r\n\r\n`);
  const { txs, counters } = runEngine(s.events, { maxPendingRequests: 3 });
  assert.deepEqual(summary(txs), ['GET /0 timeout', 'GET /1 timeout', 'GET /2 202', 'GET /3 203', 'GET /4 204']);
  assert.equal(counters.http1_pending_overflow, 2);

  const big = new EventScript();
  big.data('egress', 'GET /huge HTTP/1.1\r\n');
  for (let i = 0; i < 20; i++) big.data('egress', `X-H${i}: ${'v'.repeat(100)}\r\n`);
  big.data('egress', '\r\n').data('ingress', ok(1));
  big.data('egress', 'GET /next HTTP/1.1\r\n\r\n').data('ingress', ok(1));
  const r = runEngine(big.events, { maxHeaderBytes: 1024 });
  assert.equal(r.counters.http1_head_too_large, 1);
  assert.ok(r.engine.counters().engine_buffer_overflows === undefined);
  assert.deepEqual(summary(r.txs), ['GET /huge 200', 'GET /next 200']);
  assert.deepEqual(r.txs[0]!.anomalies, ['headers_truncated']);
});

test('a response whose body stops arriving is reported as a timeout, and the connection goes on', () => {
  const s = new EventScript();
  s.data('egress', 'GET /stream HTTP/1.1\r\n\r\n').data('ingress', 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
  const { engine, txs } = runEngine(s.events, { requestTimeoutNs: 1e9 });
  engine.tick(s.tsNs + 2e9);
  assert.deepEqual(txs.map((t) => [t.http!.request.path, t.http!.response?.status, t.error, t.anomalies]), [['/stream', 200, 'timeout', ['response_incomplete']]]);
  const more = new EventScript();
  more.tsNs = s.tsNs + 3e9;
  (more as unknown as { offsets: Record<string, number> }).offsets = { egress: 23, ingress: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'.length };
  more.data('ingress', 'x'.repeat(93)).data('egress', 'GET /next HTTP/1.1\r\n\r\n').data('ingress', ok(1));
  engine.push(more.events);
  assert.deepEqual(summary(txs), ['GET /stream 200', 'GET /next 200']);
});

test('absolute-form targets (requests to a proxy) give path, query, host and scheme', () => {
  const s = new EventScript();
  s.data('egress', 'GET http://api.example.test:8080/v1/x?q=1 HTTP/1.1\r\n\r\n').data('ingress', ok(0));
  s.data('egress', 'GET http://bare.test HTTP/1.1\r\nHost: bare.test\r\n\r\n').data('ingress', ok(0));
  s.data('egress', 'OPTIONS * HTTP/1.1\r\n\r\n').data('ingress', ok(0));
  const reqs = runEngine(s.events).txs.map((t) => t.http!.request);
  assert.deepEqual(reqs.map((r) => [r.path, r.query, r.host, r.scheme]), [
    ['/v1/x', 'q=1', 'api.example.test:8080', 'http'], ['/', undefined, 'bare.test', 'http'], ['*', undefined, undefined, undefined]]);
});

test('a lost request between two waiting ones: pairing stops rather than shift every response by one', () => {
  const s = new EventScript();
  s.data('egress', 'GET /r0 HTTP/1.1\r\n\r\n');
  s.gap('egress', 'GET /r1 HTTP/1.1\r\n\r\n'.length); // pipelined, lost
  s.data('egress', 'GET /r2 HTTP/1.1\r\n\r\n');
  for (const st of [200, 201, 202]) s.data('ingress', `HTTP/1.1 ${st} OK\r\nContent-Length: 0\r\n\r\n`);
  const { txs, counters } = runEngine(s.events);
  assert.deepEqual(summary(txs), ['GET /r0 gap', 'GET /r2 gap']);
  assert.equal(counters.http1_pipelined_after_loss, 1);
  assert.equal(counters.http1_unpaired_responses, 3);
});
