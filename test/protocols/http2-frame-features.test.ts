// Frame-layer features the recorded fixtures do not all exercise, built frame by frame (header
// blocks from hpack.js, an independent encoder): GOAWAY, PRIORITY, PUSH_PROMISE, SETTINGS,
// 1xx responses, request trailers, orphan CONTINUATION, the stream bound and the timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Http2Parser } from '../../agent/protocols/http2/http2-parser.js';
import type { DataEvent } from '../../agent/capture/capture-events.js';
import { defaultEngineOptions } from '../../agent/protocols/engine/engine-options.js';
import { findFrameBoundary } from '../../agent/protocols/http2/http2-frames.js';
import { CollectingSink, connInfo, frame, hpackCompressor } from './helpers/http2-dns-test-helpers.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const EMPTY = new Uint8Array(0);

/** A connection seen from the client: `c(...)` client frames, `s(...)` server frames, one syscall each. */
function conversation(opts = defaultEngineOptions) {
  const info = connInfo('client');
  const sink = new CollectingSink();
  const parser = new Http2Parser(info, sink, opts);
  const off = { egress: 0, ingress: 0 };
  let ts = 0;
  const send = (direction: 'egress' | 'ingress', ...frames: Uint8Array[]): void => {
    const bytes = Buffer.concat(frames);
    const ev: DataEvent = { kind: 'data', tsNs: ++ts, connId: info.connId, fd: 3, process: info.process, tuple: info.tuple, role: 'client',
      protocol: 'http2', direction, syscall: 'x', bytes, totalBytes: bytes.length, offset: off[direction] };
    off[direction] += bytes.length;
    parser.onData(ev);
  };
  const reqEnc = hpackCompressor();
  const respEnc = hpackCompressor();
  const get = (path: string, extra: [string, string][] = []) => reqEnc([[':method', 'GET'], [':scheme', 'http'], [':path', path], [':authority', 'h'], ...extra]);
  send('egress', PREFACE, frame(4, 0, 0, EMPTY));
  send('ingress', frame(4, 0, 0, EMPTY));
  return { sink, parser, c: (...f: Uint8Array[]) => send('egress', ...f), s: (...f: Uint8Array[]) => send('ingress', ...f), get, resp: respEnc, req: reqEnc };
}

test('GOAWAY: streams above the last processed id end as connection_closed, the others complete', () => {
  const x = conversation();
  x.c(frame(1, 0x5, 1, x.get('/a')), frame(1, 0x5, 3, x.get('/b')), frame(1, 0x5, 5, x.get('/c')));
  x.s(frame(7, 0, 0, Uint8Array.from([0, 0, 0, 3, 0, 0, 0, 0])));
  assert.deepEqual(x.sink.txs.map((t) => [t.streamId, t.error, t.anomalies]), [[5, 'connection_closed', ['goaway']]]);
  x.s(frame(1, 0x5, 1, x.resp([[':status', '200']])), frame(1, 0x5, 3, x.resp([[':status', '204']])));
  assert.deepEqual(x.sink.txs.slice(1).map((t) => [t.streamId, t.http!.response!.status]), [[1, 200], [3, 204]]);
});

test('HEADERS with PRIORITY and PADDED flags; a PRIORITY frame; PING and WINDOW_UPDATE are skipped', () => {
  const x = conversation();
  const block = x.get('/prio');
  const payload = Buffer.concat([Buffer.from([4]), Buffer.from([0, 0, 0, 0, 16]), block, Buffer.alloc(4)]);
  x.c(frame(2, 0, 1, Uint8Array.from([0, 0, 0, 0, 32])), frame(1, 0x4 | 0x1 | 0x8 | 0x20, 1, payload), frame(6, 0, 0, new Uint8Array(8)), frame(8, 0, 0, Uint8Array.from([0, 1, 0, 0])));
  x.s(frame(1, 0x5, 1, x.resp([[':status', '200']])));
  assert.deepEqual(x.sink.txs.map((t) => [t.http!.request.path, t.http!.response!.status, t.anomalies]), [['/prio', 200, []]]);
});

test('PUSH_PROMISE header blocks are decoded to keep the server table in step, and not paired', () => {
  const x = conversation();
  x.c(frame(1, 0x5, 1, x.get('/page')));
  // The push inserts entries into the server→client table; the response after it references them.
  const promised = x.resp([[':method', 'GET'], [':path', '/style.css'], ['x-pushed-by', 'server-1']]);
  x.s(frame(5, 0x4, 1, Buffer.concat([Buffer.from([0, 0, 0, 2]), promised])));
  x.s(frame(1, 0x5, 1, x.resp([[':status', '200'], ['x-pushed-by', 'server-1']])));
  assert.equal(x.sink.counters.http2_push_promises, 1);
  assert.deepEqual(x.sink.txs.map((t) => [t.streamId, t.http!.response!.status, t.anomalies]), [[1, 200, []]]);
  assert.equal(x.sink.counters.http2_hpack_unknown_refs, undefined);
});

test('SETTINGS_MAX_FRAME_SIZE lets the peer send frames over 16 kB; without it they are a counted desync', () => {
  const x = conversation();
  // The client allows 64 kB frames (id 5) and a 256-octet header table (id 1) for what the server sends.
  x.c(frame(4, 0, 0, Uint8Array.from([0, 5, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0])));
  x.c(frame(1, 0x5, 1, x.get('/big')));
  x.s(frame(1, 0x4, 1, x.resp([[':status', '200']])), frame(0, 0x1, 1, new Uint8Array(40000)));
  assert.deepEqual(x.sink.txs.map((t) => [t.http!.response!.status, t.responseBytes]), [[200, 9 + 1 + 9 + 40000]]);
  assert.equal(x.sink.counters.http2_desyncs, undefined);
  const y = conversation();
  y.c(frame(1, 0x5, 1, y.get('/big')));
  y.s(frame(1, 0x4, 1, y.resp([[':status', '200']])), frame(0, 0x1, 1, new Uint8Array(40000)));
  assert.equal(y.sink.counters.http2_desync_frame_too_large, 1);
  assert.equal(y.sink.txs.length, 0, 'the end of the stream was not seen: it stays open (and later times out)');
});

test('1xx informational responses do not end the stream; request trailers do not either', () => {
  const x = conversation();
  x.c(frame(1, 0x4, 1, x.req([[':method', 'POST'], [':scheme', 'http'], [':path', '/up'], [':authority', 'h'], ['expect', '100-continue']])));
  x.s(frame(1, 0x4, 1, x.resp([[':status', '100']])));
  x.c(frame(0, 0, 1, new Uint8Array(10)), frame(1, 0x5, 1, x.req([['x-checksum', 'abc']])));
  x.s(frame(1, 0x4, 1, x.resp([[':status', '103'], ['link', '</a.css>; rel=preload']])));
  assert.equal(x.sink.txs.length, 0);
  x.s(frame(1, 0x5, 1, x.resp([[':status', '201']])));
  assert.deepEqual(x.sink.txs.map((t) => [t.http!.request.method, t.http!.response!.status]), [['POST', 201]]);
});

test('a CONTINUATION whose HEADERS was lost is counted and the decoder marked degraded', () => {
  const x = conversation();
  x.c(frame(9, 0x4, 1, x.get('/orphan')));
  assert.equal(x.sink.counters.http2_orphan_continuations, 1);
  assert.equal(x.sink.counters.http2_hpack_degraded, 1);
  assert.equal(x.sink.txs.length, 0);
});

test('open streams are bounded (oldest ends as timeout, counted) and time out after the bounded wait', () => {
  const x = conversation({ ...defaultEngineOptions, maxPendingRequests: 4 });
  for (let i = 0; i < 6; i++) x.c(frame(1, 0x5, 2 * i + 1, x.get(`/q${i}`)));
  assert.equal(x.parser.openStreams, 4);
  assert.equal(x.sink.counters.http2_streams_dropped, 2);
  assert.deepEqual(x.sink.txs.map((t) => [t.http!.request.path, t.error, t.anomalies]), [['/q0', 'timeout', ['stream_table_full']], ['/q1', 'timeout', ['stream_table_full']]]);
  x.parser.onTick(defaultEngineOptions.requestTimeoutNs + 100);
  assert.equal(x.parser.openStreams, 0);
  assert.equal(x.sink.counters.http2_timeouts, 4);
  assert.deepEqual(x.sink.txs.slice(2).map((t) => t.error), ['timeout', 'timeout', 'timeout', 'timeout']);
});

test('header fields beyond maxHeaderCount are skipped and counted; the table stays in step', () => {
  const x = conversation({ ...defaultEngineOptions, maxHeaderCount: 6 });
  const many: [string, string][] = Array.from({ length: 20 }, (_, i) => [`x-h${i}`, `v${i}`]);
  x.c(frame(1, 0x5, 1, x.get('/many', many)));
  x.c(frame(1, 0x5, 3, x.get('/many', many))); // all references to entries the first block inserted
  x.s(frame(1, 0x5, 1, x.resp([[':status', '200']])), frame(1, 0x5, 3, x.resp([[':status', '200']])));
  assert.equal(x.sink.counters.http2_header_fields_skipped, 2);
  assert.equal(x.sink.counters.http2_hpack_unknown_refs, undefined);
  assert.deepEqual(x.sink.txs.map((t) => [t.http!.request.path, t.anomalies]), [['/many', ['header_count_limit']], ['/many', ['header_count_limit']]]);
});

test('a stream whose request headers were undecodable is still recognised as gRPC from the response', () => {
  const x = conversation();
  x.c(frame(1, 0x5, 1, Uint8Array.from([0xff, 0x80, 0x01]))); // index far beyond any table: unknown
  x.s(frame(1, 0x4, 1, x.resp([[':status', '200'], ['content-type', 'application/grpc']])),
    frame(1, 0x5, 1, x.resp([['grpc-status', '14'], ['grpc-message', 'unavailable']])));
  const tx = x.sink.txs[0]!;
  assert.equal(tx.protocol, 'grpc');
  assert.equal(tx.grpc!.status, 14);
  assert.equal(tx.grpc!.service, '');
  assert.ok(tx.anomalies.includes('request_headers_unknown') && tx.anomalies.includes('hpack_unknown_ref'));
});

test('resync search on adversarial bytes is bounded: long chains of tiny frames ending in junk', () => {
  // 7000 zero-length DATA frames, junk, then a real SETTINGS frame. Every aligned start chains
  // 7000 headers deep into the junk (~25M checks to reach the SETTINGS frame); the search gives up
  // after its budget instead, and the next chunk gets a fresh try.
  const tiny = Array.from({ length: 7000 }, () => frame(0, 0, 1, new Uint8Array(0)));
  const junk = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  const settings = frame(4, 0, 0, new Uint8Array(6));
  const bytes = Buffer.concat([...tiny, junk, settings]);
  assert.equal(findFrameBoundary(bytes, 0, bytes.length, 16384), -1);
  assert.equal(findFrameBoundary(bytes, bytes.length - settings.length - 9, bytes.length, 16384), bytes.length - settings.length,
    'without the long chains the same search finds the frame');
});

test('SETTINGS_HEADER_TABLE_SIZE reaches the decoder: a size update within the lowered limit decodes, one above it is flagged and held to it', () => {
  // Hand-written server header blocks: a size update, :status 200 (static 8), then a literal with
  // incremental indexing (new name 'x-tag') that later blocks reference as index 62.
  const sizeUpdate = (n: number): number[] => (n < 31 ? [0x20 | n] : [0x3f, ...(n - 31 < 128 ? [n - 31] : [((n - 31) & 0x7f) | 0x80, (n - 31) >> 7])]);
  const tag = (valueLen: number): number[] => [0x40, 5, ...Buffer.from('x-tag'), ...(valueLen < 127 ? [valueLen] : [0x7f, ((valueLen - 127) & 0x7f) | 0x80, (valueLen - 127) >> 7]), ...Buffer.alloc(valueLen, 0x76)];
  const exchange = (settings: boolean, update: number, valueLen: number) => {
    const x = conversation();
    // The client lowers the table the server's encoder may use to 256 octets.
    if (settings) x.c(frame(4, 0, 0, Uint8Array.from([0, 1, 0, 0, 1, 0])));
    x.c(frame(1, 0x5, 1, x.get('/a')));
    x.s(frame(1, 0x5, 1, Uint8Array.from([...sizeUpdate(update), 0x88, ...tag(valueLen)])));
    x.c(frame(1, 0x5, 3, x.get('/b')));
    x.s(frame(1, 0x5, 3, Uint8Array.from([0x88, 0xbe]))); // :status 200, x-tag from the table
    return x;
  };
  // Within the limit: update to 200, a 132-octet entry fits and is found again.
  const within = exchange(true, 200, 95);
  assert.deepEqual(within.sink.txs.map((t) => [t.streamId, t.http!.response!.status, t.anomalies]), [[1, 200, []], [3, 200, []]]);
  assert.equal(within.sink.counters.http2_hpack_oversized_table_updates, undefined);
  assert.equal(within.sink.counters.http2_hpack_unknown_refs, undefined);
  // Above it: update to 1024 with only 256 allowed. Flagged; our table stays at 256, so the
  // 300-octet entry (which the encoder's 1024-octet table holds) is unknown to us, never guessed.
  const above = exchange(true, 1024, 263);
  assert.equal(above.sink.counters.http2_hpack_oversized_table_updates, 1);
  assert.deepEqual(above.sink.txs.map((t) => [t.streamId, t.http!.response!.status, t.anomalies]), [[1, 200, []], [3, 200, ['hpack_unknown_ref']]]);
  assert.equal(above.sink.counters.http2_hpack_unknown_refs, 1);
  // The same blocks without the SETTINGS: 1024 is within the default 4096, nothing to flag.
  const noSettings = exchange(false, 1024, 263);
  assert.equal(noSettings.sink.counters.http2_hpack_oversized_table_updates, undefined);
  assert.deepEqual(noSettings.sink.txs.map((t) => t.anomalies), [[], []]);
});
