// Connections the kernel reports with role 'unknown' (picked up mid-stream, the first syscall not
// starting a message): each transaction must carry the role the traffic itself shows — the
// direction of the request — or the kernel's once a later event names it, and 'unknown' when
// nothing tells (the span builder drops those; a guess would make a CLIENT span of a SERVER one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureEvent, DataEvent, Direction, Role } from '../../agent/capture/capture-events.js';
import { DnsParser } from '../../agent/protocols/dns/dns-parser.js';
import { EventScript, runEngine } from './helpers/engine-event-script.js';
import { CollectingSink, connInfo, frame, hpackCompressor, loadFixture, run, toEvents } from './helpers/http2-dns-test-helpers.js';

const EMPTY = new Uint8Array(0);
const flip = (d: Direction): Direction => (d === 'egress' ? 'ingress' : 'egress');

/** A script already some way into both byte streams (no preface, no connection start). */
function midstream(protocol: 'http1' | 'http2'): EventScript {
  const s = new EventScript(1, 'unknown', protocol);
  (s as unknown as { offsets: Record<Direction, number> }).offsets = { egress: 70_000, ingress: 90_000 };
  return s;
}

/**
 * HTTP/2 joined mid-stream: the first syscalls are DATA, SETTINGS and WINDOW_UPDATE, and the
 * HEADERS never start a syscall, so the kernel never learns the role. `req` carries the requests.
 */
function h2Midstream(req: Direction): EventScript {
  const res = flip(req);
  const reqEnc = hpackCompressor();
  const resEnc = hpackCompressor();
  const s = midstream('http2');
  const windowUpdate = frame(8, 0, 0, Uint8Array.from([0, 0, 0x10, 0]));
  s.data(req, frame(0, 0, 1, new Uint8Array(10))); // the tail of a request body on a stream we never saw
  s.data(res, frame(4, 0, 0, Uint8Array.from([0, 4, 0, 1, 0, 0]))); // SETTINGS (initial window)
  s.data(req, frame(4, 1, 0, EMPTY)); // its ACK
  s.data(req, Buffer.concat([windowUpdate, frame(1, 0x4, 3, reqEnc([[':method', 'POST'], [':scheme', 'http'], [':path', '/shop.Cart/Add'], [':authority', 'cart:50051'], ['content-type', 'application/grpc'], ['te', 'trailers']])), frame(0, 0x1, 3, new Uint8Array(12))]));
  s.data(res, Buffer.concat([windowUpdate, frame(1, 0x4, 3, resEnc([[':status', '200'], ['content-type', 'application/grpc']])), frame(0, 0, 3, new Uint8Array(8)), frame(1, 0x5, 3, resEnc([['grpc-status', '0']]))]));
  s.data(req, Buffer.concat([windowUpdate, frame(1, 0x5, 5, reqEnc([[':method', 'GET'], [':scheme', 'http'], [':path', '/healthz'], [':authority', 'cart:8080']]))]));
  s.data(res, Buffer.concat([windowUpdate, frame(1, 0x5, 5, resEnc([[':status', '204']]))]));
  return s;
}

test('HTTP/2 picked up mid-stream with role unknown: requests sent → client, requests received → server', () => {
  for (const [req, role] of [['egress', 'client'], ['ingress', 'server']] as const) {
    const { txs, counters } = runEngine(h2Midstream(req).events);
    assert.deepEqual(txs.map((t) => [t.protocol, t.streamId, t.http!.request.path, t.http!.response?.status, t.role]), [
      ['grpc', 3, '/shop.Cart/Add', 200, role], ['http2', 5, '/healthz', 204, role]], `requests on ${req}`);
    assert.equal(txs[0]!.grpc!.status, 0);
    assert.equal(counters.engine_roles_learned, undefined, 'the kernel never named the role here');
    assert.equal(counters.http2_unpaired_frames, 1, 'the DATA of the unseen stream');
  }
});

test('HTTP/2 with nothing that tells the sides apart keeps role unknown; a later kernel role is used', () => {
  // Header blocks that only reference dynamic-table entries we never saw: no :method, no :status.
  const build = (): EventScript => {
    const s = midstream('http2');
    s.data('egress', frame(0, 0, 1, new Uint8Array(10)));
    s.data('egress', Buffer.concat([frame(8, 0, 0, Uint8Array.from([0, 0, 0x10, 0])), frame(1, 0x5, 7, Uint8Array.from([0xbe, 0xbf]))]));
    s.data('ingress', Buffer.concat([frame(8, 0, 0, Uint8Array.from([0, 0, 0x10, 0])), frame(1, 0x5, 7, Uint8Array.from([0xbe]))]));
    return s;
  };
  const unknown = runEngine(build().events);
  assert.deepEqual(unknown.txs.map((t) => [t.streamId, t.role]), [[7, 'unknown']], 'never guessed');

  // The kernel names the role on a later event (a syscall that started with HEADERS, say).
  const events: CaptureEvent[] = build().events.map((e, i) => (i >= 1 ? { ...e, role: 'client' as Role } : e));
  const learnt = runEngine(events);
  assert.deepEqual(learnt.txs.map((t) => [t.streamId, t.role]), [[7, 'client']]);
  assert.equal(learnt.counters.engine_roles_learned, 1);

  // The frames already proved the other side (a decoded request went egress): they win, counted.
  const proved = h2Midstream('egress').events.map((e, i) => (i >= 4 ? { ...e, role: 'server' as Role } : e));
  const conflict = runEngine(proved);
  assert.deepEqual(conflict.txs.map((t) => t.role), ['client', 'client']);
  assert.equal(conflict.counters.http2_role_disagreements, 1);
});

test('HTTP/2 response HEADERS (:status) tell the server side even when no request was decodable', () => {
  const s = midstream('http2');
  // Requests whose blocks reference only unseen entries; the responses carry :status (static).
  s.data('ingress', frame(1, 0x5, 9, Uint8Array.from([0xbe])));
  s.data('egress', frame(1, 0x5, 9, Uint8Array.from([0x88])));
  const { txs } = runEngine(s.events);
  assert.deepEqual(txs.map((t) => [t.streamId, t.http!.response?.status, t.role]), [[9, 200, 'server']]);
});

test('HTTP/1 picked up mid-stream with role unknown: the request line direction gives the role', () => {
  for (const [req, role] of [['egress', 'client'], ['ingress', 'server']] as const) {
    const s = midstream('http1');
    s.data(req, 'dy of an earlier request').data(flip(req), 'tail of an earlier response\r\n');
    s.data(req, 'GET /items HTTP/1.1\r\nHost: shop\r\n\r\n').data(flip(req), 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]');
    const { txs } = runEngine(s.events);
    assert.deepEqual(txs.map((t) => [t.http!.request.path, t.http!.response?.status, t.role]), [['/items', 200, role]], `requests on ${req}`);
  }
});

test('DNS with role unknown: a query sent → client, a query received → server', () => {
  const client = toEvents(loadFixture('dns', 'dig-udp').chunks, { role: 'unknown', transport: 'udp' });
  for (const [events, role] of [[client, 'client'], [client.map((e): DataEvent => ({ ...e, direction: flip(e.direction) })), 'server']] as const) {
    const sink = new CollectingSink();
    const parser = new DnsParser(connInfo('unknown', 'udp'), sink);
    run(parser, sink, events, true);
    assert.ok(sink.txs.length >= 6);
    assert.deepEqual([...new Set(sink.txs.map((t) => t.role))], [role]);
  }
});
