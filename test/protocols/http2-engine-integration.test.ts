// The HTTP/2 and DNS parsers behind the real ProtocolEngine with its built-in registry: the kernel's
// protocol verdict picks them, and an HTTP/1.1 h2c upgrade hands the connection over to HTTP/2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import type { CaptureEvent, DataEvent } from '../../agent/capture/capture-events.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { Http2Parser } from '../../agent/protocols/http2/http2-parser.js';
import { connInfo, frame, hpackCompressor, loadFixture, toEvents } from './helpers/http2-dns-test-helpers.js';

function engineRun(events: CaptureEvent[], tickNs?: number): { txs: Transaction[]; counters: Record<string, number>; engine: ProtocolEngine } {
  const txs: Transaction[] = [];
  const engine = new ProtocolEngine(undefined, (tx) => txs.push(tx));
  engine.push(events);
  if (tickNs !== undefined) engine.tick(tickNs);
  return { txs, counters: engine.counters(), engine };
}

test('gRPC and DNS connections interleaved in one batch, dispatched by the kernel verdict', () => {
  const grpc = toEvents(loadFixture('grpc', 'grpc-concurrent').chunks, { connId: 1 }).map((e) => ({ ...e, protocol: 'http2' as const }));
  const dns = toEvents(loadFixture('dns', 'dig-udp').chunks, { role: 'server', transport: 'udp', connId: 2 }).map((e) => ({ ...e, protocol: 'dns' as const }));
  const mixed: CaptureEvent[] = [];
  for (let i = 0; i < Math.max(grpc.length, dns.length); i++) { if (grpc[i]) mixed.push(grpc[i]!); if (dns[i]) mixed.push(dns[i]!); }
  const { txs, counters, engine } = engineRun(mixed);
  assert.equal(txs.filter((t) => t.protocol === 'grpc').length, 10);
  assert.equal(txs.filter((t) => t.protocol === 'dns').length, 6);
  assert.ok(txs.every((t) => t.connId === (t.protocol === 'dns' ? 2 : 1)));
  assert.equal(counters.http2_parser_exceptions, undefined);
  assert.equal(counters.dns_parser_exceptions, undefined);
  assert.equal(engine.openConnections, 2);
  // The unanswered DNS query ends as a timeout once the engine's clock passes the bounded wait.
  const late = engineRun(mixed, dns[dns.length - 1]!.tsNs + 31e9);
  assert.equal(late.txs.filter((t) => t.error === 'timeout').map((t) => t.dns?.qname).join(), 'silent.sockeye.test');
});

test('h2c: HTTP/1.1 Upgrade request, 101, then HTTP/2 answers the request on stream 1', () => {
  const c = connInfo('client');
  let ts = 0;
  const offsets = { egress: 0, ingress: 0 };
  const ev = (direction: 'egress' | 'ingress', bytes: Uint8Array, protocol: 'http1' | 'http2' = 'http1'): DataEvent => {
    const e: DataEvent = { kind: 'data', tsNs: ++ts * 1000, connId: 3, fd: 4, process: c.process, tuple: c.tuple, role: 'client',
      protocol, direction, syscall: 'x', bytes, totalBytes: bytes.length, offset: offsets[direction] };
    offsets[direction] += bytes.length;
    return e;
  };
  const enc = hpackCompressor();
  const req = Buffer.from('GET /h2c-page?x=1 HTTP/1.1\r\nHost: svc.local\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nUser-Agent: curl/8\r\n\r\n');
  const headers = frame(1, 0x4, 1, enc([[':status', '200'], ['content-type', 'text/html']]));
  const resp = Buffer.concat([
    Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n'),
    frame(4, 0, 0, Uint8Array.from([0, 3, 0, 0, 0, 100])),
    headers,
    frame(0, 0x1, 1, new Uint8Array(42)),
  ]);
  const preface = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(4, 0, 0, new Uint8Array(0)), frame(4, 1, 0, new Uint8Array(0))]);
  const { txs, counters } = engineRun([ev('egress', req), ev('ingress', resp), ev('egress', preface, 'http2')]);
  assert.equal(counters.engine_switch_to_http2, 1);
  assert.equal(txs.length, 1);
  const tx = txs[0]!;
  assert.equal(tx.protocol, 'http2');
  assert.equal(tx.streamId, 1);
  assert.equal(tx.http!.request.path, '/h2c-page');
  assert.equal(tx.http!.request.host, 'svc.local');
  assert.equal(tx.http!.response!.status, 200);
  assert.equal(tx.responseBytes, headers.length + 9 + 42, 'HEADERS + DATA frames of stream 1');
  assert.ok(tx.anomalies.includes('h2c_upgrade'));
});

test('h2c hand-over with an unknown role: the client preface tells which side asked', () => {
  const c = connInfo('unknown');
  const enc = hpackCompressor();
  const sink = { txs: [] as Transaction[], emit(tx: Transaction) { this.txs.push(tx); }, count() {} };
  const parser = new Http2Parser(c, sink, undefined, {
    to: 'http2', carry: [],
    upgradeRequest: { request: { method: 'GET', target: '/u', path: '/u', version: '1.1' }, startNs: 1, requestBytes: 100 },
  });
  const ev = (direction: 'egress' | 'ingress', bytes: Uint8Array, ts: number): DataEvent => ({
    kind: 'data', tsNs: ts, connId: 3, fd: 4, process: c.process, tuple: c.tuple, role: 'unknown', protocol: 'http2',
    direction, syscall: 'x', bytes, totalBytes: bytes.length, offset: 0,
  });
  // Seen from the server: the client's preface arrives as ingress, the response leaves as egress.
  parser.onData(ev('ingress', Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(4, 0, 0, new Uint8Array(0))]), 2));
  parser.onData(ev('egress', Buffer.concat([frame(4, 0, 0, new Uint8Array(0)), frame(1, 0x5, 1, enc([[':status', '204']]))]), 3));
  assert.deepEqual(sink.txs.map((t) => [t.streamId, t.http!.request.path, t.http!.response?.status, t.endNs]), [[1, '/u', 204, 3]]);
});
