// HTTP/2 under what passive capture really delivers: connections picked up mid-stream, lost
// events, capped copies, garbage. The parser must never throw, never pair wrongly, and count what
// it could not use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Http2Parser } from '../../agent/protocols/http2/http2-parser.js';
import type { CaptureEvent, DataEvent } from '../../agent/capture/capture-events.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import {
  CollectingSink, connInfo, frame, gapFor, hpackCompressor, loadFixture, run, toEvents,
} from './helpers/http2-dns-test-helpers.js';

const FIXTURES: [('http2' | 'grpc'), string][] = [
  ['http2', 'node-get-post-404'], ['http2', 'node-concurrent'], ['http2', 'node-padded-continuation'],
  ['http2', 'node-reset'], ['grpc', 'grpc-unary-ok-error'], ['grpc', 'grpc-concurrent'],
];

function parse(events: readonly CaptureEvent[]): CollectingSink {
  const sink = new CollectingSink();
  return run(new Http2Parser(connInfo('client'), sink), sink, events, true);
}

/** What each stream really was, from the undamaged stream. */
function truth(events: readonly DataEvent[]): Map<number, Transaction> {
  return new Map(parse(events).txs.map((t) => [t.streamId!, t]));
}

/** Every field a damaged run reports must match the truth for that stream; unknown fields may be empty. */
function assertConsistent(got: Transaction[], want: Map<number, Transaction>, label: string): void {
  const seen = new Set<number>();
  for (const tx of got) {
    assert.ok(!seen.has(tx.streamId!), `${label}: stream ${tx.streamId} emitted twice`);
    seen.add(tx.streamId!);
    const w = want.get(tx.streamId!);
    assert.ok(w, `${label}: stream ${tx.streamId} does not exist`);
    const r = tx.http!.request;
    if (r.method !== '') assert.equal(r.method, w.http!.request.method, `${label}: method of ${tx.streamId}`);
    if (r.path !== '') assert.equal(r.path, w.http!.request.path, `${label}: path of ${tx.streamId}`);
    if (tx.http!.response) assert.equal(tx.http!.response.status, w.http!.response?.status, `${label}: status of ${tx.streamId}`);
    if (tx.grpc?.status !== undefined && tx.error === undefined) assert.equal(tx.grpc.status, w.grpc?.status, `${label}: grpc-status of ${tx.streamId}`);
  }
}

test('picked up mid-stream at every chunk: no throw, no wrong pair, later exchanges recovered', () => {
  for (const [area, name] of FIXTURES) {
    const events = toEvents(loadFixture(area, name).chunks);
    const want = truth(events);
    for (let k = 1; k < events.length; k++) {
      const sink = parse(events.slice(k));
      assertConsistent(sink.txs, want, `${name} from chunk ${k}`);
    }
  }
  // Joining node-get-post-404 just before the 4th request: its headers reference dynamic-table
  // entries we never saw. The pseudo-headers still decode; the rest is flagged and counted.
  const events = toEvents(loadFixture('http2', 'node-get-post-404').chunks);
  const want = truth(events);
  const k = events.findIndex((e, i) => i > 0 && e.direction === 'egress' && parse(events.slice(i)).txs.some((t) => t.streamId === 7));
  const sink = parse(events.slice(k));
  const s7 = sink.txs.find((t) => t.streamId === 7)!;
  assert.equal(s7.http!.request.path, '/hello');
  assert.equal(s7.http!.response!.status, 200);
  assert.ok(s7.anomalies.includes('hpack_unknown_ref'), s7.anomalies.join());
  assert.ok(sink.counters.http2_hpack_unknown_refs! > 0);
  assert.equal(s7.http!.request.traceparent, undefined, 'the unseen traceparent entry is not guessed');
  assertConsistent(sink.txs, want, 'join before stream 7');
});

test('property: random loss, caps and splits give correct pairs or counted anomalies, never a wrong pair', () => {
  const fixtures = FIXTURES.map(([a, n]) => toEvents(loadFixture(a, n).chunks));
  const truths = fixtures.map(truth);
  const damage = fc.array(fc.record({
    at: fc.nat(), kind: fc.constantFrom('gap', 'cap', 'split', 'drop'), frac: fc.double({ min: 0, max: 1, noNaN: true }),
  }), { maxLength: 6 });
  fc.assert(fc.property(fc.nat(fixtures.length - 1), damage, (fi, ds) => {
    let evs: CaptureEvent[] = [...fixtures[fi]!];
    let lossy = false;
    for (const d of ds) {
      const i = d.at % evs.length;
      const e = evs[i]!;
      if (e.kind !== 'data') continue;
      const j = Math.floor(e.bytes.length * d.frac);
      if (d.kind === 'gap') { evs[i] = gapFor(e, e.totalBytes); lossy = true; }
      else if (d.kind === 'drop') { evs.splice(i, 1); lossy = true; } // unannounced: only the offset tells
      else if (d.kind === 'cap') { evs[i] = { ...e, bytes: e.bytes.subarray(0, j) }; lossy = true; }
      else if (j > 0 && j < e.bytes.length) {
        evs = [...evs.slice(0, i), { ...e, bytes: e.bytes.subarray(0, j), totalBytes: j },
          { ...e, bytes: e.bytes.subarray(j), totalBytes: e.totalBytes - j, offset: e.offset + j }, ...evs.slice(i + 1)];
      }
    }
    const sink = parse(evs);
    assertConsistent(sink.txs, truths[fi]!, `fixture ${fi}`);
    if (!lossy) assert.equal(sink.txs.length, truths[fi]!.size);
  }), { numRuns: 400 });
});

test('a capped DATA frame is skipped by count: the next frames parse, nothing is desynchronised', () => {
  const reqBlock = hpackCompressor();
  const respBlock = hpackCompressor();
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const c = connInfo('client');
  const ev = (direction: 'egress' | 'ingress', bytes: Uint8Array, offset: number, cap?: number, ts = 1): DataEvent => ({
    kind: 'data', tsNs: ts, connId: c.connId, fd: 3, process: c.process, tuple: c.tuple, role: 'client', protocol: 'http2',
    direction, syscall: 'x', bytes: cap === undefined ? bytes : bytes.subarray(0, cap), totalBytes: bytes.length, offset,
  });
  const req = Buffer.concat([preface, frame(4, 0, 0, new Uint8Array(0)),
    frame(1, 0x4 | 0x1, 1, reqBlock([[':method', 'GET'], [':scheme', 'http'], [':path', '/download'], [':authority', 'h']]))]);
  const resp1 = Buffer.concat([frame(4, 0, 0, new Uint8Array(0)), frame(1, 0x4, 1, respBlock([[':status', '200']])),
    frame(0, 0, 1, new Uint8Array(16000))]); // within the default 16 kB max frame size
  const resp2 = frame(0, 0x1, 1, new Uint8Array(10));
  const events = [ev('egress', req, 0), ev('ingress', resp1, 0, 100, 2), ev('ingress', resp2, resp1.length, undefined, 3)];
  const sink = parse(events);
  assert.equal(sink.txs.length, 1);
  const tx = sink.txs[0]!;
  assert.equal(tx.http!.request.path, '/download');
  assert.equal(tx.http!.response!.status, 200);
  assert.equal(tx.endNs, 3);
  assert.equal(tx.responseBytes, 9 + 1 + 9 + 16000 + 9 + 10);
  assert.deepEqual(tx.anomalies, []);
  assert.equal(sink.counters.http2_desyncs, undefined);
});

test('a capped HEADERS frame keeps its decodable prefix, marks the decoder degraded and counts it', () => {
  const reqBlock = hpackCompressor();
  const c = connInfo('client');
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const headers = frame(1, 0x4 | 0x1, 1, reqBlock([[':method', 'POST'], [':path', '/api/v1/items'], ['x-pad', 'p'.repeat(400)]]));
  const bytes = Buffer.concat([preface, headers]);
  const sink = new CollectingSink();
  const parser = new Http2Parser(c, sink);
  parser.onData({
    kind: 'data', tsNs: 1, connId: c.connId, fd: 3, process: c.process, tuple: c.tuple, role: 'client', protocol: 'http2',
    direction: 'egress', syscall: 'writev', bytes: bytes.subarray(0, 24 + 9 + 40), totalBytes: bytes.length, offset: 0,
  });
  assert.equal(sink.counters.http2_hpack_degraded, 1);
  assert.equal(parser.openStreams, 1);
  parser.onTick(1 + 31e9);
  assert.equal(sink.txs.length, 1);
  const tx = sink.txs[0]!;
  assert.equal(tx.error, 'timeout');
  assert.equal(tx.http!.request.method, 'POST');
  assert.equal(tx.http!.request.path, '/api/v1/items');
  assert.ok(tx.anomalies.includes('hpack_degraded'));
});

test('garbage, then valid frames at a syscall boundary: resynchronised and counted; garbage never throws', () => {
  const events = toEvents(loadFixture('grpc', 'grpc-unary-ok-error').chunks);
  const junk: DataEvent = { ...events[0]!, bytes: Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff), totalBytes: 300 };
  const sink = parse([junk, ...events.slice(1)]);
  assert.ok((sink.counters.http2_midstream_pickups ?? 0) + (sink.counters.http2_desyncs ?? 0) >= 1);
  assertConsistent(sink.txs, truth(events), 'after junk');
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 8 }), (chunks) => {
    const evs = chunks.map((b, i) => ({ ...events[0]!, direction: i % 2 ? 'ingress' as const : 'egress' as const, bytes: b, totalBytes: b.length + (i % 3) * 10 }));
    const s = parse(evs);
    for (const tx of s.txs) assert.equal(typeof tx.streamId, 'number');
  }), { numRuns: 500 });
});

test('property: random valid exchanges (interleaved streams, gRPC or not), random syscall splits and loss', () => {
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const streamSpec = fc.record({
    path: fc.stringMatching(/^\/[a-z]{1,8}(\/[a-z0-9]{1,6})?$/), grpc: fc.boolean(), status: fc.constantFrom(200, 201, 404, 500, 503),
    grpcStatus: fc.nat(16), body: fc.nat(3000), ua: fc.constantFrom('curl/8', 'grpc-node-js/1.14.7', 'okhttp/4'),
  });
  fc.assert(fc.property(fc.array(streamSpec, { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { maxLength: 12 }),
    fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom('gap', 'cap') }), { maxLength: 2 }), (specs, cuts, losses) => {
      const reqEnc = hpackCompressor();
      const respEnc = hpackCompressor();
      const c2s: Uint8Array[] = [preface, frame(4, 0, 0, new Uint8Array(0))];
      const s2c: Uint8Array[] = [frame(4, 0, 0, new Uint8Array(0))];
      const truthMap = new Map<number, Transaction>();
      specs.forEach((s, i) => {
        const sid = 2 * i + 1;
        const ct = s.grpc ? 'application/grpc' : 'application/json';
        c2s.push(frame(1, 0x4, sid, reqEnc([[':method', 'POST'], [':scheme', 'http'], [':path', s.path], [':authority', 'svc'], ['content-type', ct], ['user-agent', s.ua]])),
          frame(0, 0x1, sid, new Uint8Array(s.body % 1000)));
      });
      // Responses in reverse order: pairing must come from stream ids, not order.
      [...specs].reverse().forEach((s, r) => {
        const i = specs.length - 1 - r;
        const sid = 2 * i + 1;
        const status = s.grpc ? 200 : s.status;
        s2c.push(frame(1, 0x4, sid, respEnc([[':status', String(status)]])));
        for (let left = s.body; left > 0; left -= 16384) s2c.push(frame(0, 0, sid, new Uint8Array(Math.min(left, 16384))));
        s2c.push(s.grpc ? frame(1, 0x5, sid, respEnc([['grpc-status', String(s.grpcStatus)]])) : frame(0, 0x1, sid, new Uint8Array(0)));
        truthMap.set(sid, { http: { request: { method: 'POST', path: s.path }, response: { status } }, grpc: s.grpc ? { status: s.grpcStatus } : undefined } as unknown as Transaction);
      });
      const toEventsSplit = (parts: Uint8Array[], direction: 'egress' | 'ingress', ts: number): DataEvent[] => {
        const buf = Buffer.concat(parts);
        const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].filter((p) => p > 0 && p < buf.length).sort((a, b) => a - b);
        const edges = [0, ...points, buf.length];
        const info = connInfo('client');
        return edges.slice(1).map((end, k) => ({ kind: 'data', tsNs: ts + k, connId: info.connId, fd: 3, process: info.process, tuple: info.tuple, role: 'client',
          protocol: 'http2', direction, syscall: 'x', bytes: buf.subarray(edges[k]!, end), totalBytes: end - edges[k]!, offset: edges[k]! }) as DataEvent);
      };
      const events: CaptureEvent[] = [...toEventsSplit(c2s, 'egress', 1000), ...toEventsSplit(s2c, 'ingress', 100000)];
      let lossy = false;
      for (const l of losses) {
        const i = l.at % events.length;
        const e = events[i]!;
        if (e.kind !== 'data') continue;
        lossy = true;
        events[i] = l.kind === 'gap' ? gapFor(e, e.totalBytes) : { ...e, bytes: e.bytes.subarray(0, e.bytes.length >> 1) };
      }
      const sink = parse(events);
      assertConsistent(sink.txs, truthMap, 'generated');
      if (!lossy) {
        assert.equal(sink.txs.length, specs.length);
        assert.ok(sink.txs.every((t) => t.error === undefined && t.anomalies.length === 0));
        assert.ok(sink.txs.every((t) => (t.protocol === 'grpc') === specs[(t.streamId! - 1) / 2]!.grpc));
      }
    }), { numRuns: 300 });
});
