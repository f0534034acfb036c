// DNS parser on traffic recorded from dig (UDP and TCP with length framing) and on the cases an
// unconnected UDP socket and lossy capture produce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DnsParser } from '../../agent/protocols/dns/dns-parser.js';
import type { DataEvent } from '../../agent/capture/capture-events.js';
import { CollectingSink, connInfo, gapFor, loadFixture, rechunk, require, run, splitEvent, summary, toEvents } from './helpers/http2-dns-test-helpers.js';

const dnsPacket = require('dns-packet');

function parseUdp(events: readonly DataEvent[], tickNs?: number): CollectingSink {
  const sink = new CollectingSink();
  const p = new DnsParser(connInfo('server', 'udp'), sink);
  run(p, sink, events);
  if (tickNs !== undefined) p.onTick(tickNs);
  return sink;
}

function parseTcp(events: readonly DataEvent[]): CollectingSink {
  const sink = new CollectingSink();
  return run(new DnsParser(connInfo('server', 'tcp'), sink), sink, events, true);
}

test('dig over UDP: A, AAAA, CNAME chain, NXDOMAIN, TXT raw, TC bit, and an unanswered query timing out', () => {
  const events = toEvents(loadFixture('dns', 'dig-udp').chunks, { role: 'server', transport: 'udp' });
  const sink = parseUdp(events);
  assert.equal(sink.txs.length, 6);
  const by = (q: string, t = 'A') => sink.txs.find((x) => x.dns!.qname === q && x.dns!.qtype === t)!;
  assert.deepEqual(by('web.sockeye.test').dns!.answers!.map((a) => a.data), ['198.18.0.10', '198.18.0.11']);
  assert.equal(by('web.sockeye.test').dns!.rcode, 'NOERROR');
  assert.equal(by('web.sockeye.test').dns!.qclass, 'IN');
  assert.deepEqual(by('web.sockeye.test', 'AAAA').dns!.answers!.map((a) => a.data), ['2001:db8::10']);
  assert.deepEqual(by('alias.sockeye.test').dns!.answers!.map((a) => [a.type, a.data]), [['CNAME', 'web.sockeye.test'], ['A', '198.18.0.10']]);
  assert.equal(by('missing.sockeye.test').dns!.rcode, 'NXDOMAIN');
  assert.match(by('web.sockeye.test', 'TXT').dns!.answers![0]!.data, /^[0-9a-f]+$/, 'other types as raw hex');
  assert.equal(by('big.sockeye.test').dns!.truncated, true);
  for (const tx of sink.txs) {
    assert.equal(tx.protocol, 'dns'); assert.equal(tx.error, undefined); assert.deepEqual(tx.anomalies, []);
    assert.ok(tx.requestBytes > 12 && tx.responseBytes > 12 && tx.endNs > tx.startNs);
  }
  // The silent query is still pending; after the bounded wait it ends as 'timeout'.
  const last = events[events.length - 1]!;
  const timedOut = parseUdp(events, last.tsNs + 31e9);
  const t = timedOut.txs.find((x) => x.dns!.qname === 'silent.sockeye.test')!;
  assert.equal(t.error, 'timeout');
  assert.equal(t.responseBytes, 0);
  assert.equal(timedOut.counters.dns_timeouts, 1);
});

test('dig +tcp +keepopen: three queries on one connection, same result split at every byte or read 1 byte at a time', () => {
  const events = toEvents(loadFixture('dns', 'dig-tcp-keepopen').chunks, { role: 'server', transport: 'tcp' });
  const want = parseTcp(events).txs.map(summary);
  assert.deepEqual(want.map((t) => [(t.dns as { qname: string }).qname, (t.dns as { rcode: string }).rcode]), [
    ['web.sockeye.test', 'NOERROR'], ['alias.sockeye.test', 'NOERROR'], ['missing.sockeye.test', 'NXDOMAIN'],
  ]);
  for (let i = 0; i < events.length; i++) {
    for (let j = 1; j < events[i]!.bytes.length; j++) assert.deepEqual(parseTcp(splitEvent(events, i, j)).txs.map(summary), want, `chunk ${i} at ${j}`);
  }
  assert.deepEqual(parseTcp(rechunk(events, 1)).txs.map(summary), want);
  // Several messages in one read: all three queries in one segment, then all answers in one.
  const c2s = Buffer.concat(events.filter((e) => e.direction === 'ingress').map((e) => e.bytes));
  const s2c = Buffer.concat(events.filter((e) => e.direction === 'egress').map((e) => e.bytes));
  const joined: DataEvent[] = [
    { ...events[0]!, bytes: c2s, totalBytes: c2s.length },
    { ...events[1]!, bytes: s2c, totalBytes: s2c.length, offset: 0 },
  ];
  assert.deepEqual(parseTcp(joined).txs.map((t) => t.dns!.qname), ['web.sockeye.test', 'alias.sockeye.test', 'missing.sockeye.test']);
});

function udpEvent(direction: 'egress' | 'ingress', peer: [string, number], msg: object, ts: number): DataEvent {
  const c = connInfo('client', 'udp');
  const bytes = Uint8Array.from(dnsPacket.encode(msg));
  return {
    kind: 'data', tsNs: ts, connId: c.connId, fd: 9, process: c.process, role: 'client', protocol: 'dns',
    tuple: { ...c.tuple, remoteAddr: peer[0], remotePort: peer[1] }, direction, syscall: 'sendto', bytes, totalBytes: bytes.length, offset: 0,
  };
}

test('unconnected UDP socket: two resolvers answer the same transaction id; each pairs with its own query', () => {
  const q = (name: string) => ({ id: 4242, type: 'query', questions: [{ name, type: 'A' }] });
  const a = (name: string, ip: string) => ({ id: 4242, type: 'response', questions: [{ name, type: 'A' }], answers: [{ type: 'A', name, ttl: 1, data: ip }] });
  const sink = parseUdp([
    udpEvent('egress', ['127.0.0.53', 53], q('one.test'), 1),
    udpEvent('egress', ['127.0.0.54', 5353], q('two.test'), 2),
    udpEvent('ingress', ['127.0.0.54', 5353], a('two.test', '198.18.0.2'), 3),
    udpEvent('ingress', ['127.0.0.53', 53], a('one.test', '198.18.0.1'), 4),
  ]);
  assert.deepEqual(sink.txs.map((t) => [t.dns!.qname, t.dns!.answers![0]!.data, t.tuple.remoteAddr, t.startNs, t.endNs]), [
    ['two.test', '198.18.0.2', '127.0.0.54', 2, 3],
    ['one.test', '198.18.0.1', '127.0.0.53', 1, 4],
  ]);
});

test('never a wrong pair: a response with the same id but another question is counted, not paired', () => {
  const peer: [string, number] = ['127.0.0.53', 53];
  const sink = parseUdp([
    udpEvent('egress', peer, { id: 7, type: 'query', questions: [{ name: 'asked.test', type: 'A' }] }, 1),
    udpEvent('ingress', peer, { id: 7, type: 'response', questions: [{ name: 'other.test', type: 'A' }] }, 2),
    udpEvent('ingress', peer, { id: 8, type: 'response', questions: [{ name: 'asked.test', type: 'A' }] }, 3),
  ], 100e9);
  assert.equal(sink.counters.dns_mismatched_responses, 1);
  assert.equal(sink.counters.dns_unpaired_responses, 1);
  assert.deepEqual(sink.txs.map((t) => [t.dns!.qname, t.error]), [['asked.test', 'timeout']]);
});

test('a retransmitted query keeps the first send time; a capped response keeps what was captured', () => {
  const peer: [string, number] = ['127.0.0.53', 53];
  const query = { id: 9, type: 'query', questions: [{ name: 'retry.test', type: 'A' }] };
  const resp = udpEvent('ingress', peer, { id: 9, type: 'response', questions: [{ name: 'retry.test', type: 'A' }],
    answers: [1, 2, 3].map((i) => ({ type: 'A', name: 'retry.test', ttl: 1, data: `198.18.0.${i}` })) }, 5);
  const capped: DataEvent = { ...resp, bytes: resp.bytes.subarray(0, resp.bytes.length - 20) };
  const sink = parseUdp([udpEvent('egress', peer, query, 1), udpEvent('egress', peer, query, 3), capped]);
  assert.equal(sink.counters.dns_retransmits, 1);
  assert.equal(sink.txs.length, 1);
  const tx = sink.txs[0]!;
  assert.equal(tx.startNs, 1);
  assert.equal(tx.responseBytes, resp.totalBytes);
  assert.deepEqual(tx.dns!.answers!.map((a) => a.data), ['198.18.0.1', '198.18.0.2']);
  assert.ok(tx.anomalies.includes('dns_response_incomplete'));
  assert.equal(sink.counters.dns_capture_truncated, 1);
});

test('TCP: bytes lost inside a message skip it by count; lost across a length prefix resynchronise', () => {
  const events = toEvents(loadFixture('dns', 'dig-tcp-keepopen').chunks, { role: 'server', transport: 'tcp' });
  // Lose the middle of the first answer: the other two exchanges are untouched.
  const e1 = events[1]!;
  const damaged: DataEvent[] = [events[0]!, { ...e1, bytes: e1.bytes.subarray(0, 40), totalBytes: 40 }, gapFor(e1, e1.totalBytes - 40) as never,
    ...events.slice(2).map((e) => e)];
  const sink = new CollectingSink();
  const p = new DnsParser(connInfo('server', 'tcp'), sink);
  for (const e of damaged) if ((e as { kind: string }).kind === 'gap') p.onGap(e as never); else p.onData(e);
  assert.deepEqual(sink.txs.map((t) => [t.dns!.qname, t.dns!.answers?.length ?? -1, t.anomalies]), [
    ['web.sockeye.test', 0, ['dns_response_incomplete']],
    ['alias.sockeye.test', 2, []],
    ['missing.sockeye.test', 0, []],
  ]);
  // Lose a whole answer plus the next query's length prefix: the parser waits for a read that
  // starts a message, then continues; the orphaned query ends as connection_closed on close.
  const sink2 = new CollectingSink();
  const p2 = new DnsParser(connInfo('server', 'tcp'), sink2);
  p2.onData(events[0]!);
  p2.onGap(gapFor(events[1]!, events[1]!.totalBytes));
  p2.onGap(gapFor(events[2]!, 3));
  p2.onData({ ...events[2]!, bytes: events[2]!.bytes.subarray(3), totalBytes: events[2]!.totalBytes - 3 });
  for (const e of events.slice(3)) p2.onData(e);
  p2.onClose({ kind: 'close', tsNs: 1e12, connId: 7, fd: 5, process: events[0]!.process, tuple: events[0]!.tuple, role: 'server', protocol: 'dns' });
  assert.ok(sink2.counters.dns_desyncs! >= 1);
  const names = sink2.txs.map((t) => [t.dns!.qname, t.error ?? 'ok']);
  assert.deepEqual(names, [['missing.sockeye.test', 'ok'], ['web.sockeye.test', 'connection_closed']]);
});

test('property: random DNS-over-TCP exchanges, random segmentation and loss → correct pairs or counted anomalies, never a wrong pair', () => {
  const label = fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/);
  const exchange = fc.record({ name: fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => `${l.join('.')}.test`), last: fc.nat(255), answered: fc.boolean() });
  fc.assert(fc.property(fc.array(exchange, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(400), { maxLength: 8 }),
    fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom('gap', 'cap', 'none') }), { maxLength: 3 }), (xs, cuts, losses) => {
      const truth = new Map<string, string>();
      const q: Buffer[] = [], a: Buffer[] = [];
      xs.forEach((x, i) => {
        const id = i + 1; // distinct ids: pairing must not depend on luck
        truth.set(`${id}`, `${x.name}=198.18.1.${x.last}`);
        q.push(dnsPacket.streamEncode({ id, type: 'query', questions: [{ name: x.name, type: 'A' }] }));
        if (x.answered) a.push(dnsPacket.streamEncode({ id, type: 'response', questions: [{ name: x.name, type: 'A' }], answers: [{ type: 'A', name: x.name, ttl: 1, data: `198.18.1.${x.last}` }] }));
      });
      const segment = (buf: Buffer, direction: 'egress' | 'ingress', ts: number): DataEvent[] => {
        const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((x, y) => x - y).filter((p) => p > 0 && p < buf.length);
        const edges = [0, ...points, buf.length];
        const c = connInfo('client', 'tcp');
        return edges.slice(1).map((end, k) => ({ kind: 'data', tsNs: ts + k, connId: 7, fd: 5, process: c.process, tuple: c.tuple, role: 'client', protocol: 'dns',
          direction, syscall: 'x', bytes: buf.subarray(edges[k]!, end), totalBytes: end - edges[k]!, offset: edges[k]! }) as DataEvent);
      };
      const events: (DataEvent | ReturnType<typeof gapFor>)[] = [...segment(Buffer.concat(q), 'egress', 1000), ...(a.length ? segment(Buffer.concat(a), 'ingress', 5000) : [])];
      let lossy = false;
      for (const l of losses) {
        const i = l.at % events.length;
        const e = events[i]!;
        if (e.kind !== 'data' || l.kind === 'none') continue;
        lossy = true;
        events[i] = l.kind === 'gap' ? gapFor(e, e.totalBytes) : { ...e, bytes: e.bytes.subarray(0, e.bytes.length >> 1) };
      }
      const sink = new CollectingSink();
      const p = new DnsParser(connInfo('client', 'tcp'), sink);
      run(p, sink, events, true);
      for (const tx of sink.txs) {
        if (tx.error !== undefined || tx.dns!.answers === undefined || tx.dns!.answers.length === 0) continue;
        assert.equal(`${tx.dns!.qname}=${tx.dns!.answers[0]!.data}`, truth.get(`${tx.dns!.id}`), 'answer paired with its own query');
      }
      if (!lossy) {
        assert.equal(sink.txs.filter((t) => t.error === undefined).length, a.length);
        assert.equal(sink.txs.length, xs.length, 'every query ends: answered or connection_closed');
      }
    }), { numRuns: 300 });
});

test('UDP: datagrams lost by the capture mark the waiting queries, so their timeout is not blamed on the server', () => {
  const events = toEvents(loadFixture('dns', 'dig-udp').chunks, { role: 'server', transport: 'udp' });
  const query = events.find((e) => e.direction === 'ingress')!;
  const sink = new CollectingSink();
  const p = new DnsParser(connInfo('server', 'udp'), sink);
  run(p, sink, [query, gapFor({ ...query, direction: 'egress' }, 80)]);
  p.onTick(query.tsNs + 31e9);
  assert.equal(sink.txs.length, 1);
  assert.equal(sink.txs[0]!.error, 'timeout');
  assert.ok(sink.txs[0]!.anomalies.includes('gap'), 'the lost answer is noted on the query');
  // Control: without the loss the same unanswered query is a plain timeout.
  const plain = parseUdp([query], query.tsNs + 31e9);
  assert.deepEqual(plain.txs[0]!.anomalies, []);
});
