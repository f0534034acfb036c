// gRPC over the HTTP/2 parser, on byte streams recorded from @grpc/grpc-js client and server:
// rpc method, grpc-status from trailers and from Trailers-Only, concurrent calls, a cancelled call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Http2Parser } from '../../agent/protocols/http2/http2-parser.js';
import type { DataEvent } from '../../agent/capture/capture-events.js';
import { CollectingSink, connInfo, loadFixture, run, splitEvent, summary, toEvents } from './helpers/http2-dns-test-helpers.js';

function parse(events: readonly DataEvent[]): CollectingSink {
  const sink = new CollectingSink();
  return run(new Http2Parser(connInfo('client'), sink), sink, events, true);
}

test('unary OK, NOT_FOUND as Trailers-Only with a percent-encoded message, OK again', () => {
  const sink = parse(toEvents(loadFixture('grpc', 'grpc-unary-ok-error').chunks));
  assert.equal(sink.txs.length, 3);
  for (const tx of sink.txs) {
    assert.equal(tx.protocol, 'grpc');
    assert.equal(tx.grpc!.service, 'sockeye.test.v1.Echo');
    assert.equal(tx.grpc!.method, 'Say');
    assert.match(tx.grpc!.contentType!, /^application\/grpc/);
    assert.match(tx.grpc!.authority!, /^127\.0\.0\.1:\d+$/);
    assert.equal(tx.http!.request.method, 'POST');
    assert.equal(tx.http!.response!.status, 200);
    assert.deepEqual(tx.anomalies, []);
    assert.equal(tx.error, undefined);
  }
  assert.deepEqual(sink.txs.map((t) => t.grpc!.status), [0, 5, 0]);
  assert.equal(sink.txs[1]!.grpc!.message, 'no such thing: ünïcode & spaces');
  // The recorded NOT_FOUND really is Trailers-Only: one HEADERS frame with END_STREAM, no DATA.
  const f = loadFixture('grpc', 'grpc-unary-ok-error');
  const s2c = Buffer.concat(f.chunks.filter((c) => c.dir === 's2c').map((c) => c.bytes));
  const onStream3: [number, number][] = [];
  for (let p = 0; p + 9 <= s2c.length; p += 9 + s2c.readUIntBE(p, 3)) {
    if ((s2c.readUInt32BE(p + 5) & 0x7fffffff) === 3) onStream3.push([s2c[p + 3]!, s2c[p + 4]! & 0x1]);
  }
  assert.deepEqual(onStream3, [[1, 1]]);
  assert.ok(sink.txs[0]!.requestBytes > 0 && sink.txs[0]!.responseBytes > 0);
});

test('10 concurrent calls: ten distinct streams, all OK', () => {
  const sink = parse(toEvents(loadFixture('grpc', 'grpc-concurrent').chunks));
  assert.equal(sink.txs.length, 10);
  assert.deepEqual(new Set(sink.txs.map((t) => t.streamId)).size, 10);
  assert.ok(sink.txs.every((t) => t.grpc!.status === 0 && t.grpc!.method === 'Say' && t.error === undefined));
});

test('a call past its deadline is reset by the client: CANCELLED with error stream_reset', () => {
  const sink = parse(toEvents(loadFixture('grpc', 'grpc-cancelled').chunks));
  assert.deepEqual(sink.txs.map((t) => [t.streamId, t.error, t.grpc!.status]), [[1, 'stream_reset', 1], [3, undefined, 0]]);
  // The server's late answer on the reset stream has nobody to pair with: counted, not emitted.
  assert.equal(sink.counters.http2_unpaired_responses, 1);
});

test('gRPC fixtures give identical results with every chunk split at every byte boundary', () => {
  for (const name of ['grpc-unary-ok-error', 'grpc-concurrent', 'grpc-cancelled']) {
    const events = toEvents(loadFixture('grpc', name).chunks);
    const want = parse(events).txs.map(summary);
    for (let i = 0; i < events.length; i++) {
      for (let j = 1; j < events[i]!.bytes.length; j++) {
        assert.deepEqual(parse(splitEvent(events, i, j)).txs.map(summary), want, `${name}: chunk ${i} split at ${j}`);
      }
    }
  }
});
