// HTTP/1.1 benchmark scenarios: the engine end to end (events in, transactions out) and the HTTP/1.1
// parser against Node's own llhttp (node:_http_common HTTPParser) on the same byte stream.
import { createRequire } from 'node:module';
import type { CaptureEvent, DataEvent, Direction } from '../../agent/capture/capture-events.js';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import { defaultEngineOptions } from '../../agent/protocols/engine/engine-options.js';
import { Http1ConnectionParser } from '../../agent/protocols/http1/http1-connection-parser.js';
import type { SwitchingParserSink } from '../../agent/protocols/protocol-parser.js';
import type { Comparison, Scenario } from './bench-harness.js';

// Heads as real clients and servers send them (curl-like request, Node-like response).
const request = (i: number) => `GET /api/v1/items/${i}?expand=owner HTTP/1.1\r\nHost: catalog.shop.svc.cluster.local:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n` +
  `traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n`;
const response = (body: string) => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Sun, 22 Nov 2026 07:19:01 GMT\r\nConnection: keep-alive\r\n` +
  `Keep-Alive: timeout=5\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const chunkedResponse = (pieces: string[]) => `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sun, 22 Nov 2026 07:19:01 GMT\r\nConnection: keep-alive\r\n` +
  `Transfer-Encoding: chunked\r\n\r\n${pieces.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join('')}0\r\n\r\n`;
const BODY = '{"id":42,"name":"widget","price":9.99,"owner":{"id":7,"name":"acme"}}';

interface Stream { chunks: { dir: Direction; bytes: Buffer; total: number }[]; exchanges: number; bytes: number }

/** `n` exchanges on one connection; `perEvent` requests (and responses) per syscall (pipelining). */
function stream(n: number, perEvent: number, resp: (i: number) => string, cap = Infinity): Stream {
  const chunks: Stream['chunks'] = [];
  let bytes = 0;
  for (let i = 0; i < n; i += perEvent) {
    let reqs = '', resps = '';
    for (let k = i; k < Math.min(n, i + perEvent); k++) { reqs += request(k); resps += resp(k); }
    for (const [dir, text] of [['egress', reqs], ['ingress', resps]] as const) {
      const full = Buffer.from(text, 'latin1');
      // Capped: keep a copy of the captured prefix only, as the capture does (no 64 KiB bodies kept alive).
      chunks.push({ dir, bytes: full.length > cap ? Buffer.from(full.subarray(0, cap)) : full, total: full.length });
      bytes += full.length;
    }
  }
  return { chunks, exchanges: n, bytes };
}

function events(s: Stream, connId: number): CaptureEvent[] {
  const offsets = { egress: 0, ingress: 0 };
  const base = {
    connId, fd: 9, role: 'client' as const, protocol: 'http1' as const,
    process: { pid: 1, tid: 1, comm: 'bench', cgroupId: 1n, netns: 1 },
    tuple: { family: 4 as const, transport: 'tcp' as const, localAddr: '10.0.0.1', localPort: 40000, remoteAddr: '10.0.0.2', remotePort: 8080 },
  };
  const out: CaptureEvent[] = s.chunks.map((c, i) => {
    const ev: DataEvent = { ...base, kind: 'data', tsNs: 1e9 + i * 1000, direction: c.dir, syscall: 'read', bytes: c.bytes, totalBytes: c.total, offset: offsets[c.dir] };
    offsets[c.dir] += c.total;
    return ev;
  });
  out.push({ ...base, kind: 'close', tsNs: 1e9 + out.length * 1000 });
  return out;
}

function engineScenario(name: string, s: Stream): Scenario {
  return {
    name, unit: 'tx', bytesPerUnit: s.bytes / s.exchanges,
    setup() {
      let txs = 0;
      const engine = new ProtocolEngine(undefined, () => { txs++; });
      const evs = events(s, 1); // closed at the end of each batch, so the same id starts afresh
      return () => {
        const before = txs;
        engine.push(evs);
        if (txs - before !== s.exchanges) throw new Error(`${name}: ${txs - before} transactions, expected ${s.exchanges}`);
        return s.exchanges;
      };
    },
  };
}

/** `conns` connections taking turns, one exchange each per turn: connection-table lookups and LRU upkeep on every event. */
function interleavedScenario(name: string, conns: number, perConn: number): Scenario {
  const one = stream(perConn, 1, () => response(BODY));
  return {
    name, unit: 'tx', bytesPerUnit: one.bytes / one.exchanges,
    setup() {
      let txs = 0;
      const engine = new ProtocolEngine(undefined, () => { txs++; });
      const perConnEvents = Array.from({ length: conns }, (_, c) => events(one, c + 1));
      const all: CaptureEvent[] = [];
      const steps = perConnEvents[0]!.length;
      for (let i = 0; i < steps; i++) for (const evs of perConnEvents) all.push(evs[i]!);
      const expected = conns * perConn;
      return () => {
        const before = txs;
        engine.push(all);
        if (txs - before !== expected) throw new Error(`${name}: ${txs - before} transactions, expected ${expected}`);
        return expected;
      };
    },
  };
}

const keepAlive = stream(1000, 1, () => response(BODY));
const pipelined = stream(1000, 10, () => response(BODY));
const chunked = stream(1000, 1, () => chunkedResponse(['{"items":[', BODY, ',', BODY, ']}']));
const largeCapped = stream(1000, 1, () => response('x'.repeat(64 * 1024)), 256);

export const scenarios: Scenario[] = [
  engineScenario('http1 engine: small keep-alive GETs', keepAlive),
  engineScenario('http1 engine: pipelined GETs (10 per syscall)', pipelined),
  engineScenario('http1 engine: chunked responses (5 chunks)', chunked),
  engineScenario('http1 engine: 64 KiB bodies, capture capped at 256 B', largeCapped),
  interleavedScenario('http1 engine: 1000 connections taking turns', 1000, 20),
];

// ---- our parser vs llhttp, same bytes ----

const nullSink: SwitchingParserSink & { n: number } = { n: 0, emit() { this.n++; }, count() {}, switchProtocol() {} };

function oursScenario(name: string, s: Stream): Scenario {
  return {
    name, unit: 'tx', bytesPerUnit: s.bytes / s.exchanges,
    setup() {
      const evs = events(s, 1);
      const data = evs.filter((e): e is DataEvent => e.kind === 'data');
      const conn = { connId: 1, role: 'client' as const, tuple: data[0]!.tuple, process: data[0]!.process };
      return () => {
        const before = nullSink.n;
        const p = new Http1ConnectionParser(conn, nullSink, defaultEngineOptions);
        for (let i = 0; i < data.length; i++) p.onData(data[i]!);
        if (nullSink.n - before !== s.exchanges) throw new Error(`${name}: ${nullSink.n - before} transactions, expected ${s.exchanges}`);
        return s.exchanges;
      };
    },
  };
}

interface NodeHttpParser { initialize(type: number, resource: object): void; execute(b: Buffer): number | Error; [k: number]: unknown }
interface NodeHttpParserClass { new(): NodeHttpParser; REQUEST: number; RESPONSE: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number; kOnHeaders: number; kOnExecute: number }

function llhttpScenario(name: string, s: Stream): Scenario {
  return {
    name, unit: 'tx', bytesPerUnit: s.bytes / s.exchanges,
    setup() {
      const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser: NodeHttpParserClass };
      let done = 0;
      const make = (type: number) => {
        const p = new HTTPParser();
        p[HTTPParser.kOnHeaders] = () => {};
        p[HTTPParser.kOnHeadersComplete] = () => {};
        p[HTTPParser.kOnBody] = () => {};
        p[HTTPParser.kOnMessageComplete] = () => { if (type === HTTPParser.RESPONSE) done++; };
        return p;
      };
      const req = make(HTTPParser.REQUEST), resp = make(HTTPParser.RESPONSE);
      return () => {
        req.initialize(HTTPParser.REQUEST, {});
        resp.initialize(HTTPParser.RESPONSE, {});
        const before = done;
        for (const c of s.chunks) (c.dir === 'egress' ? req : resp).execute(c.bytes);
        if (done - before !== s.exchanges) throw new Error(`${name}: llhttp completed ${done - before}`);
        return s.exchanges;
      };
    },
  };
}

export const comparisons: Comparison[] = [
  { name: 'HTTP/1.1 keep-alive GETs', ours: oursScenario('http1 parser (ours)', keepAlive), baseline: llhttpScenario('llhttp (node:_http_common)', keepAlive) },
  { name: 'HTTP/1.1 pipelined GETs', ours: oursScenario('http1 parser (ours)', pipelined), baseline: llhttpScenario('llhttp (node:_http_common)', pipelined) },
  { name: 'HTTP/1.1 chunked responses', ours: oursScenario('http1 parser (ours)', chunked), baseline: llhttpScenario('llhttp (node:_http_common)', chunked) },
];
