// HTTP/2 (gRPC) and DNS scenarios for the protocol benchmark harness (protocol-bench.ts loads this
// file): gRPC unary and DNS transactions/s, parser alone and behind the ProtocolEngine, and the
// libraries we measured against on the same input — HPACK vs hpack.js, DNS decode vs dns-packet.
// The inputs are built with those libraries' encoders (independent of our decoders).
import { createRequire } from 'node:module';
import { HpackDecoder } from '../../agent/protocols/http2/hpack-decoder.js';
import { Http2Parser } from '../../agent/protocols/http2/http2-parser.js';
import { DnsParser } from '../../agent/protocols/dns/dns-parser.js';
import { decodeDnsMessage } from '../../agent/protocols/dns/dns-message.js';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import type { DataEvent, Direction, Transport } from '../../agent/capture/capture-events.js';
import type { ParserSink } from '../../agent/protocols/protocol-parser.js';
import type { Comparison, Scenario } from './bench-harness.js';

const require = createRequire(import.meta.url);
export const hpack = require('hpack.js');
export const dnsPacket = require('dns-packet');

export function compressor(): (h: [string, string][]) => Buffer {
  const comp = hpack.compressor.create({ table: { maxSize: 4096 } });
  return (headers) => {
    comp.write(headers.map(([name, value]) => ({ name, value })));
    const parts: Buffer[] = [];
    for (let c = comp.read(); c !== null; c = comp.read()) parts.push(c);
    return Buffer.concat(parts);
  };
}
function frame(type: number, flags: number, sid: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3); h[3] = type; h[4] = flags; h.writeUInt32BE(sid, 5);
  return Buffer.concat([h, payload]);
}

const conn = {
  connId: 1, role: 'client' as const,
  tuple: { family: 4 as const, transport: 'tcp' as Transport, localAddr: '127.0.0.1', localPort: 40000, remoteAddr: '127.0.0.1', remotePort: 50051 },
  process: { pid: 1, tid: 1, comm: 'bench', cgroupId: 0n, netns: 1 },
};
function event(direction: Direction, bytes: Uint8Array, offset: number, ts: number, transport: Transport = 'tcp', connId = 1, protocol: 'http2' | 'dns' = 'http2'): DataEvent {
  return { kind: 'data', tsNs: ts, connId, fd: 3, process: conn.process, tuple: { ...conn.tuple, transport }, role: 'client', protocol, direction, syscall: 'x', bytes, totalBytes: bytes.length, offset };
}

// ---------------------------------------------------------------- gRPC unary stream
const CALLS = 5000;
export function grpcConnection(connId: number): DataEvent[] {
  const req = compressor();
  const resp = compressor();
  const events: DataEvent[] = [];
  const off = { egress: 0, ingress: 0 };
  let ts = 1;
  const push = (d: Direction, b: Buffer): void => { events.push(event(d, b, off[d], ts++, 'tcp', connId)); off[d] += b.length; };
  push('egress', Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(4, 0, 0, new Uint8Array(0))]));
  push('ingress', frame(4, 0, 0, new Uint8Array(0)));
  const msg = Buffer.concat([Buffer.from([0, 0, 0, 0, 12]), Buffer.from('hello world!')]);
  for (let i = 0; i < CALLS; i++) {
    const sid = 2 * i + 1;
    const h = req([[':method', 'POST'], [':scheme', 'http'], [':path', '/sockeye.bench.v1.Echo/Say'], [':authority', 'echo.default.svc:50051'],
      ['grpc-accept-encoding', 'identity,deflate,gzip'], ['te', 'trailers'], ['content-type', 'application/grpc'],
      ['user-agent', 'grpc-node-js/1.14.7'], ['grpc-timeout', '4999m'], ['traceparent', `00-0af7651916cd43dd8448eb211c80319c-${(i + 0x1000000).toString(16).padStart(16, '0')}-01`]]);
    push('egress', Buffer.concat([frame(1, 0x4, sid, h), frame(0, 0x1, sid, msg)]));
    const r = resp([[':status', '200'], ['content-type', 'application/grpc'], ['grpc-accept-encoding', 'identity,deflate,gzip']]);
    const t = resp([['grpc-status', '0'], ['grpc-message', 'OK']]);
    push('ingress', Buffer.concat([frame(1, 0x4, sid, r), frame(0, 0, sid, msg), frame(1, 0x5, sid, t)]));
  }
  return events;
}

// HPACK: the request header blocks of one connection, decoded in order (dynamic table in play).
const hpackBlocks: Buffer[] = [];
{
  const enc = compressor();
  for (let i = 0; i < 1000; i++) {
    hpackBlocks.push(enc([[':method', 'POST'], [':scheme', 'http'], [':path', `/sockeye.bench.v1.Echo/Say${i % 4}`], [':authority', 'echo.default.svc:50051'],
      ['content-type', 'application/grpc'], ['user-agent', 'grpc-node-js/1.14.7'], ['te', 'trailers'],
      ['traceparent', `00-0af7651916cd43dd8448eb211c80319c-${(i + 0x1000000).toString(16).padStart(16, '0')}-01`]]));
  }
}
// ---------------------------------------------------------------- DNS
const dnsMsgs: Buffer[] = [];
const dnsEvents: DataEvent[] = [];
{
  let ts = 1;
  for (let i = 0; i < 5000; i++) {
    const name = `svc-${i % 97}.default.svc.cluster.local`;
    const q = dnsPacket.encode({ id: i & 0xffff, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: i % 2 ? 'AAAA' : 'A' }] });
    const a = dnsPacket.encode({ id: i & 0xffff, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: [{ name, type: i % 2 ? 'AAAA' : 'A' }],
      answers: i % 2 ? [{ type: 'AAAA', name, ttl: 5, data: '2001:db8::1' }] : [{ type: 'CNAME', name, ttl: 5, data: 'backend.default.svc.cluster.local' }, { type: 'A', name: 'backend.default.svc.cluster.local', ttl: 5, data: '198.18.0.1' }] });
    dnsMsgs.push(q, a);
    dnsEvents.push(event('egress', q, 0, ts++, 'udp', 2, 'dns'), event('ingress', a, 0, ts++, 'udp', 2, 'dns'));
  }
}

const grpcEvents = grpcConnection(1);
const grpcBytes = grpcEvents.reduce((n, e) => n + e.totalBytes, 0);
const dnsBytes = dnsEvents.reduce((n, e) => n + e.totalBytes, 0);

export const scenarios: Scenario[] = [
  {
    name: 'grpc unary: HTTP/2 parser', unit: 'tx', bytesPerUnit: grpcBytes / CALLS,
    setup: () => {
      let n = 0;
      const sink: ParserSink = { emit: () => { n++; }, count: () => {} };
      return () => {
        n = 0;
        const p = new Http2Parser(conn, sink);
        for (const e of grpcEvents) p.onData(e);
        if (n !== CALLS) throw new Error(`expected ${CALLS} transactions, got ${n}`);
        return n;
      };
    },
  },
  {
    name: 'grpc unary: engine + HTTP/2 parser', unit: 'tx', bytesPerUnit: grpcBytes / CALLS,
    setup: () => () => {
      let n = 0;
      new ProtocolEngine(undefined, () => { n++; }).push(grpcEvents);
      if (n !== CALLS) throw new Error(`engine: expected ${CALLS} transactions, got ${n}`);
      return n;
    },
  },
  {
    name: 'dns over udp: DNS parser', unit: 'tx', bytesPerUnit: dnsBytes / (dnsEvents.length / 2),
    setup: () => {
      let n = 0;
      const sink: ParserSink = { emit: () => { n++; }, count: () => {} };
      return () => {
        n = 0;
        const p = new DnsParser({ ...conn, connId: 2, tuple: { ...conn.tuple, transport: 'udp' } }, sink);
        for (const e of dnsEvents) p.onData(e);
        if (n !== dnsEvents.length / 2) throw new Error(`dns: expected ${dnsEvents.length / 2}, got ${n}`);
        return n;
      };
    },
  },
  {
    name: 'dns over udp: engine + DNS parser', unit: 'tx', bytesPerUnit: dnsBytes / (dnsEvents.length / 2),
    setup: () => () => {
      let n = 0;
      new ProtocolEngine(undefined, () => { n++; }).push(dnsEvents);
      if (n !== dnsEvents.length / 2) throw new Error(`engine dns: expected ${dnsEvents.length / 2}, got ${n}`);
      return n;
    },
  },
];

export const comparisons: Comparison[] = [
  {
    name: 'HPACK: 1000 gRPC request header blocks of one connection (Huffman, dynamic table)',
    ours: { name: 'ours: HpackDecoder', unit: 'block', setup: () => () => {
      const d = new HpackDecoder();
      for (const b of hpackBlocks) d.decode(b, 0, b.length);
      return hpackBlocks.length;
    } },
    baseline: { name: 'hpack.js 2.1.6 decompressor', unit: 'block', setup: () => () => {
      const d = hpack.decompressor.create({ table: { maxSize: 4096 } });
      for (const b of hpackBlocks) { d.write(b); d.execute(); while (d.read() !== null) { /* drain */ } }
      return hpackBlocks.length;
    } },
  },
  {
    name: 'DNS: 10000 queries and answers (A, AAAA, CNAME)',
    ours: { name: 'ours: decodeDnsMessage', unit: 'msg', setup: () => () => { for (const m of dnsMsgs) decodeDnsMessage(m); return dnsMsgs.length; } },
    baseline: { name: 'dns-packet 5.6.1 decode', unit: 'msg', setup: () => () => { for (const m of dnsMsgs) dnsPacket.decode(m); return dnsMsgs.length; } },
  },
];

/** What each library does with partial capture: the other half of the library decision. */
export function printCaptureBehaviour(): void {

  const full = dnsPacket.encode({ id: 77, type: 'response', questions: [{ name: 'cut.sockeye.test', type: 'A' }], answers: [{ type: 'A', name: 'cut.sockeye.test', ttl: 5, data: '198.18.0.7' }] });
  const cut = full.subarray(0, full.length - 3);
  let theirs: string;
  try { theirs = `answer ${JSON.stringify(dnsPacket.decode(cut).answers[0]?.data)} (no error)`; } catch (e) { theirs = `throws: ${(e as Error).message}`; }
  const ours = decodeDnsMessage(cut)!;
  console.log(`DNS answer cut 3 bytes short:        ours qname ${ours.qname}, ${ours.answers.length} answers, incomplete=${ours.incomplete}   dns-packet ${theirs}`);
  const enc = compressor();
  enc([[':method', 'POST'], [':path', '/a.B/C'], ['x-tenant', 'blue']]);
  const second = enc([[':method', 'POST'], [':path', '/a.B/C'], ['x-tenant', 'blue'], ['x-new', 'v']]);
  const res = new HpackDecoder().decode(second, 0, second.length);
  let theirsH: string;
  try {
    const d = hpack.decompressor.create({ table: { maxSize: 4096 } });
    d.write(second); d.execute();
    let n = 0; while (d.read() !== null) n++;
    theirsH = `${n} headers`;
  } catch (e) { theirsH = `throws: ${(e as Error).message} (whole block lost)`; }
  console.log(`HPACK block joined mid-connection:   ours ${res.headers.length / 2} of 4 headers kept, ${res.unknownRefs} unknown refs flagged   hpack.js ${theirsH}`);
}
