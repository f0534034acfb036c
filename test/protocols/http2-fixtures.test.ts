// HTTP/2 parser on byte streams recorded from real node:http2 clients and servers
// (scripts/record-fixtures/record-http2-grpc-dns.js): the transactions a user would expect, and the
// same result whatever the syscall boundaries (every chunk split at every byte, or 1-byte reads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Http2Parser } from '../../agent/protocols/http2/http2-parser.js';
import type { DataEvent } from '../../agent/capture/capture-events.js';
import {
  CollectingSink, connInfo, loadFixture, rechunk, run, splitEvent, summary, toEvents,
} from './helpers/http2-dns-test-helpers.js';

function parse(events: readonly DataEvent[], role: 'client' | 'server' = 'client'): CollectingSink {
  const sink = new CollectingSink();
  return run(new Http2Parser(connInfo(role), sink), sink, events, true);
}

test('GET with query and trace context, POST, 404, repeated headers and a 70 kB body', () => {
  const sink = parse(toEvents(loadFixture('http2', 'node-get-post-404').chunks));
  const txs = sink.txs.map(summary);
  assert.deepEqual(txs.map((t) => [t.streamId, t.method, t.path, t.status, t.error]), [
    [1, 'GET', '/hello', 200, undefined],
    [3, 'POST', '/submit', 200, undefined],
    [5, 'GET', '/missing', 404, undefined],
    [7, 'GET', '/hello', 200, undefined],
    [9, 'GET', '/big', 200, undefined],
  ]);
  const first = sink.txs[0]!.http!.request;
  assert.equal(first.query, 'name=sockeye');
  assert.equal(first.version, '2');
  assert.equal(first.userAgent, 'fixture-recorder/1');
  assert.equal(first.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  assert.equal(first.tracestate, 'vendor=1');
  assert.match(first.host ?? '', /^127\.0\.0\.1:\d+$/);
  assert.equal(sink.txs[1]!.http!.request.contentLength, 25);
  // The repeat of request 1 is mostly dynamic-table references: same fields, fewer bytes.
  assert.deepEqual(sink.txs[3]!.http!.request, first);
  assert.ok(sink.txs[3]!.requestBytes < sink.txs[0]!.requestBytes);
  assert.ok(sink.txs[4]!.responseBytes > 70000, 'DATA frames of the 70 kB body counted');
  for (const tx of sink.txs) {
    assert.deepEqual(tx.anomalies, []);
    assert.equal(tx.protocol, 'http2');
    assert.ok(tx.endNs >= tx.startNs);
  }
  assert.equal(Object.keys(sink.counters).filter((k) => !['http2_goaways'].includes(k)).length, 0, JSON.stringify(sink.counters));
});

test('8 concurrent streams on one connection are each paired by stream id', () => {
  const sink = parse(toEvents(loadFixture('http2', 'node-concurrent').chunks));
  const got = sink.txs.map((t) => [t.streamId, t.http!.request.path, t.http!.response?.status]).sort((a, b) => (a[0] as number) - (b[0] as number));
  assert.deepEqual(got, Array.from({ length: 8 }, (_, i) => [2 * i + 1, `/item/${i}`, 200]));
});

test('maximum padding and a 20 kB header block over HEADERS + CONTINUATION', () => {
  const sink = parse(toEvents(loadFixture('http2', 'node-padded-continuation').chunks));
  assert.deepEqual(sink.txs.map((t) => [t.http!.request.method, t.http!.request.path, t.http!.response?.status]), [
    ['GET', '/padded', 200], ['POST', '/padded-post', 200],
  ]);
  assert.ok(sink.txs[0]!.requestBytes > 15000, 'the Huffman-coded 20 kB header counted');
  assert.deepEqual(sink.txs.flatMap((t) => t.anomalies), []);
});

test('RST_STREAM ends the stream with error stream_reset; the connection goes on', () => {
  const sink = parse(toEvents(loadFixture('http2', 'node-reset').chunks));
  assert.deepEqual(sink.txs.map((t) => [t.streamId, t.http!.request.path, t.error, t.http!.response?.status]), [
    [1, '/slow', 'stream_reset', undefined],
    [3, '/after-reset', undefined, 200],
  ]);
  assert.equal(sink.counters.http2_stream_resets, 1);
});

test('the server side of the same bytes gives the same transactions', () => {
  const chunks = loadFixture('http2', 'node-get-post-404').chunks;
  const asClient = parse(toEvents(chunks)).txs.map(summary);
  const asServer = parse(toEvents(chunks, { role: 'server' }), 'server').txs.map(summary);
  assert.deepEqual(asServer, asClient);
});

for (const name of ['node-get-post-404', 'node-concurrent', 'node-padded-continuation', 'node-reset']) {
  test(`${name}: identical result with every chunk split at every byte boundary`, () => {
    const events = toEvents(loadFixture('http2', name).chunks);
    const want = parse(events).txs.map(summary);
    let runs = 0;
    for (let i = 0; i < events.length; i++) {
      const len = events[i]!.bytes.length;
      // Long DATA-only chunks: every boundary near the frame headers, a stride through the middle.
      const step = len > 4096 ? 61 : 1;
      for (let j = 1; j < len; j += (j < 512 || j > len - 512) ? 1 : step) {
        const got = parse(splitEvent(events, i, j)).txs.map(summary);
        assert.deepEqual(got, want, `chunk ${i} split at ${j}`);
        runs++;
      }
    }
    assert.ok(runs > 100);
  });
}

test('1-byte and 7-byte reads give the same transactions', () => {
  for (const name of ['node-get-post-404', 'node-padded-continuation']) {
    const events = toEvents(loadFixture('http2', name).chunks);
    const want = parse(events).txs.map(summary);
    assert.deepEqual(parse(rechunk(events, 7)).txs.map(summary), want);
    assert.deepEqual(parse(rechunk(events.slice(0, 12), 1)).txs.map(summary), parse(events.slice(0, 12)).txs.map(summary));
  }
});
