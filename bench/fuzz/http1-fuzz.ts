// HTTP/1.1 fuzzer, on demand: `node dist/bench/fuzz/http1-fuzz.js [inputs=1000000] [seed=1]`.
// Mutates recorded real streams (test/fixtures/protocols/http1) and hand-made edge cases at byte
// level (flips, inserts, deletes, duplicated ranges, splices, framing tokens) and at event level
// (random splits, capture caps, gaps, offset jumps, roles, closes, ticks), and feeds each input to
// a fresh parser directly (no engine try/catch to hide a throw). Reports exceptions, the largest
// buffer any parser held, and heap use. A short run of it is a test (http1-fuzz-smoke.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import type { CloseEvent, DataEvent, Direction, GapEvent, Role } from '../../agent/capture/capture-events.js';
import { defaultEngineOptions, type EngineOptions } from '../../agent/protocols/engine/engine-options.js';
import { Http1ConnectionParser } from '../../agent/protocols/http1/http1-connection-parser.js';
import type { SwitchingParserSink } from '../../agent/protocols/protocol-parser.js';

export interface FuzzReport {
  inputs: number;
  events: number;
  exceptions: number;
  firstException?: string;
  transactions: number;
  counted: Record<string, number>;
  maxBufferedBytes: number;
  heapStartMb: number;
  heapPeakMb: number;
  heapEndMb: number;
  seconds: number;
}

type Chunk = { dir: Direction; bytes: Uint8Array };

/** mulberry32: small, seedable, good enough to pick mutations. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = ['\r\n', '\r\n\r\n', '\n', ':', ' ', 'Content-Length: 99999999999\r\n', 'Content-Length: -1\r\n', 'Content-Length: 5\r\nContent-Length: 6\r\n',
  'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: gzip\r\n', 'ffffffffffffff\r\n', '0\r\n\r\n', '5;ext=1\r\nhello\r\n', 'HTTP/1.1 101 Switching\r\nUpgrade: h2c\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.0 200 OK\r\n\r\n', 'GET / HTTP/1.1\r\n\r\n', 'CONNECT a:1 HTTP/1.1\r\n\r\n', 'HEAD / HTTP/1.1\r\n\r\n', 'Upgrade: websocket\r\nConnection: upgrade\r\n',
  'HTTP/1.1 204 No\r\nContent-Length: 10\r\n\r\n', 'X: ' + 'v'.repeat(5000) + '\r\n', '\x00\xff\x80'].map((t) => Buffer.from(t, 'latin1'));

function corpus(): Chunk[][] {
  const out: Chunk[][] = [];
  const dir = new URL('../../../test/fixtures/protocols/http1/', import.meta.url).pathname;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const fx = JSON.parse(readFileSync(dir + f, 'utf8')) as { chunks: { dir: Direction; data: string }[] };
    out.push(fx.chunks.map((c) => ({ dir: c.dir, bytes: Buffer.from(c.data, 'base64') })));
  }
  const t = (dir: Direction, s: string): Chunk => ({ dir, bytes: Buffer.from(s, 'latin1') });
  out.push([t('egress', 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n'),
    t('ingress', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n')]);
  return out;
}

function mutateBytes(b: Uint8Array, r: () => number, pool: Chunk[][]): Uint8Array {
  const buf = Buffer.from(b);
  const at = Math.floor(r() * (buf.length + 1));
  switch (Math.floor(r() * 7)) {
    case 0: { if (buf.length) buf[Math.min(at, buf.length - 1)] = Math.floor(r() * 256); return buf; }
    case 1: { if (buf.length) buf[Math.min(at, buf.length - 1)]! ^= 1 << Math.floor(r() * 8); return buf; }
    case 2: { const tok = TOKENS[Math.floor(r() * TOKENS.length)]!; return Buffer.concat([buf.subarray(0, at), tok, buf.subarray(at)]); }
    case 3: { const n = Math.floor(r() * 64); return Buffer.concat([buf.subarray(0, at), buf.subarray(Math.min(buf.length, at + n))]); }
    case 4: { const n = Math.floor(r() * 128); return Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + n), buf.subarray(at)]); }
    case 5: { const other = pool[Math.floor(r() * pool.length)]!; const c = other[Math.floor(r() * other.length)]!; const s = Math.floor(r() * c.bytes.length); return Buffer.concat([buf.subarray(0, at), c.bytes.subarray(s, s + Math.floor(r() * 200))]); }
    default: { const n = Math.floor(r() * 16); const junk = Buffer.alloc(n); for (let i = 0; i < n; i++) junk[i] = Math.floor(r() * 256); return Buffer.concat([buf.subarray(0, at), junk, buf.subarray(at)]); }
  }
}

export function runHttp1Fuzz(inputs: number, seed = 1, options: EngineOptions = { ...defaultEngineOptions, maxHeaderBytes: 8192, maxPendingRequests: 32 }): FuzzReport {
  const r = rng(seed);
  const pool = corpus();
  const counted: Record<string, number> = {};
  let transactions = 0, exceptions = 0, events = 0, maxBuffered = 0;
  let firstException: string | undefined;
  const sink: SwitchingParserSink = {
    emit() { transactions++; },
    count(name, n = 1) { counted[name] = (counted[name] ?? 0) + n; },
    switchProtocol() { counted.switches = (counted.switches ?? 0) + 1; },
  };
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapStart = process.memoryUsage().heapUsed;
  let heapPeak = heapStart;
  const t0 = process.hrtime.bigint();
  const proc = { pid: 1, tid: 1, comm: 'fuzz', cgroupId: 1n, netns: 1 };
  const tuple = { family: 4 as const, transport: 'tcp' as const, localAddr: '127.0.0.1', localPort: 1, remoteAddr: '127.0.0.1', remotePort: 2 };
  for (let n = 0; n < inputs; n++) {
    const base = pool[Math.floor(r() * pool.length)]!;
    let chunks = base.slice();
    for (let m = 1 + Math.floor(r() * 4); m > 0; m--) {
      const i = Math.floor(r() * chunks.length);
      chunks[i] = { dir: chunks[i]!.dir, bytes: mutateBytes(chunks[i]!.bytes, r, pool) };
    }
    if (r() < 0.3) chunks = chunks.map((c) => (r() < 0.2 ? { dir: (c.dir === 'egress' ? 'ingress' : 'egress') as Direction, bytes: c.bytes } : c));
    const role: Role = (['client', 'server', 'unknown'] as const)[Math.floor(r() * 3)]!;
    const parser = new Http1ConnectionParser({ connId: n, role, tuple, process: proc }, sink, options);
    const offsets = { egress: 0, ingress: 0 };
    let ts = 1e9;
    const common = { connId: n, fd: 3, process: proc, tuple, role, protocol: 'http1' as const };
    try {
      for (const c of chunks) {
        // Split each chunk at up to two random points; sometimes cap, lose, or jump the offset.
        const cuts = [0, Math.floor(r() * c.bytes.length), Math.floor(r() * c.bytes.length), c.bytes.length].sort((a, b) => a - b);
        for (let k = 0; k + 1 < cuts.length; k++) {
          const piece = c.bytes.subarray(cuts[k]!, cuts[k + 1]!);
          if (piece.length === 0) continue;
          const roll = r();
          ts += 1000;
          events++;
          if (roll < 0.04) {
            const gap: GapEvent = { ...common, kind: 'gap', tsNs: ts, direction: c.dir, lostBytes: piece.length };
            parser.onGap(gap);
          } else {
            if (roll < 0.06) offsets[c.dir] += Math.floor(r() * 100);
            const cap = roll < 0.12 ? Math.floor(r() * piece.length) : piece.length;
            const ev: DataEvent = { ...common, kind: 'data', tsNs: ts, direction: c.dir, syscall: 'read', bytes: piece.subarray(0, cap), totalBytes: piece.length, offset: offsets[c.dir] };
            parser.onData(ev);
          }
          offsets[c.dir] += piece.length;
          const held = parser.bufferedBytes();
          if (held > maxBuffered) maxBuffered = held;
          if (r() < 0.02) parser.onTick(ts + r() * 60e9);
        }
      }
      const close: CloseEvent = { ...common, kind: 'close', tsNs: ts + 1 };
      parser.onClose(close);
    } catch (err) {
      exceptions++;
      firstException ??= (err as Error).stack ?? String(err);
    }
    if ((n & 0xffff) === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  gc?.();
  const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
  const report: FuzzReport = { inputs, events, exceptions, transactions, counted, maxBufferedBytes: maxBuffered, heapStartMb: mb(heapStart), heapPeakMb: mb(heapPeak), heapEndMb: mb(process.memoryUsage().heapUsed), seconds };
  if (firstException !== undefined) report.firstException = firstException;
  return report;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const inputs = Number(process.argv[2] ?? 1_000_000);
  const seed = Number(process.argv[3] ?? 1);
  const rep = runHttp1Fuzz(inputs, seed);
  const top = Object.entries(rep.counted).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k}=${v}`).join(' ');
  console.log(`http1 fuzz: ${rep.inputs} inputs, ${rep.events} events in ${rep.seconds.toFixed(1)} s (seed ${seed})`);
  console.log(`  exceptions: ${rep.exceptions}${rep.firstException ? `\n  first: ${rep.firstException}` : ''}`);
  console.log(`  transactions: ${rep.transactions}; largest parser buffer: ${rep.maxBufferedBytes} B`);
  console.log(`  heap: start ${rep.heapStartMb} MB, peak ${rep.heapPeakMb} MB, end ${rep.heapEndMb} MB`);
  console.log(`  counted: ${top}`);
  process.exitCode = rep.exceptions === 0 ? 0 : 1;
}
