// Shared by the http2-*, hpack-*, grpc-* and dns-* tests: load recorded fixtures, turn them into
// capture events, run a parser and collect what it emits and counts. Not a test file itself.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { CaptureEvent, DataEvent, Direction, GapEvent, Role, SocketTuple, Transport } from '../../../agent/capture/capture-events.js';
import type { ConnectionParser, ParserSink } from '../../../agent/protocols/protocol-parser.js';
import type { Transaction } from '../../../agent/protocols/transaction.js';
import type { ConnectionInfo } from '../../../agent/protocols/engine/parser-registry.js';

export const require = createRequire(import.meta.url);
const fixtureRoot = new URL('../../../../test/fixtures/protocols/', import.meta.url).pathname;

export interface Chunk { dir: 'c2s' | 's2c'; bytes: Uint8Array; peer?: string }
export interface Fixture { description: string; transport: Transport; chunks: Chunk[] }

export function loadFixture(area: 'http2' | 'grpc' | 'dns', name: string): Fixture {
  const raw = JSON.parse(readFileSync(`${fixtureRoot}${area}/${name}.json`, 'utf8')) as {
    description: string; transport: Transport; chunks: { dir: 'c2s' | 's2c'; hex: string; peer?: string }[];
  };
  return {
    description: raw.description,
    transport: raw.transport,
    chunks: raw.chunks.map((c) => ({ dir: c.dir, bytes: Uint8Array.from(Buffer.from(c.hex, 'hex')), ...(c.peer ? { peer: c.peer } : {}) })),
  };
}

export function connInfo(role: Role, transport: Transport = 'tcp', connId = 7): ConnectionInfo {
  return {
    connId, role,
    tuple: { family: 4, transport, localAddr: '127.0.0.1', localPort: 50000, remoteAddr: '127.0.0.1', remotePort: 8443 },
    process: { pid: 100, tid: 100, comm: 'fixture', cgroupId: 0n, netns: 1 },
  };
}

/** The client's view: c2s is egress. Each chunk one syscall; `split` cuts chunk i at byte j. */
export function toEvents(chunks: readonly Chunk[], opts: { role?: Role; transport?: Transport; connId?: number } = {}): DataEvent[] {
  const role = opts.role ?? 'client';
  const info = connInfo(role, opts.transport ?? 'tcp', opts.connId ?? 7);
  const offsets: Record<Direction, number> = { egress: 0, ingress: 0 };
  return chunks.map((c, i) => {
    const direction: Direction = (c.dir === 'c2s') === (role !== 'server') ? 'egress' : 'ingress';
    const tuple: SocketTuple = c.peer
      ? { ...info.tuple, remoteAddr: c.peer.split(':')[0]!, remotePort: Number(c.peer.split(':')[1]) }
      : info.tuple;
    const ev: DataEvent = {
      kind: 'data', tsNs: 1_000_000 * (i + 1), connId: info.connId, fd: 5, process: info.process, tuple, role,
      protocol: 'unknown', direction, syscall: direction === 'egress' ? 'writev' : 'read',
      bytes: c.bytes, totalBytes: c.bytes.length, offset: offsets[direction],
    };
    offsets[direction] += c.bytes.length;
    return ev;
  });
}

/** Splits event i at byte j into two events with the same timestamp. */
export function splitEvent(events: readonly DataEvent[], i: number, j: number): DataEvent[] {
  const e = events[i]!;
  const a: DataEvent = { ...e, bytes: e.bytes.subarray(0, j), totalBytes: j };
  const b: DataEvent = { ...e, bytes: e.bytes.subarray(j), totalBytes: e.totalBytes - j, offset: e.offset + j };
  return [...events.slice(0, i), a, b, ...events.slice(i + 1)];
}

/** Every event cut into pieces of `size` bytes. */
export function rechunk(events: readonly DataEvent[], size: number): DataEvent[] {
  return events.flatMap((e) => {
    const out: DataEvent[] = [];
    for (let p = 0; p < e.bytes.length; p += size) {
      const n = Math.min(size, e.bytes.length - p);
      out.push({ ...e, bytes: e.bytes.subarray(p, p + n), totalBytes: n, offset: e.offset + p });
    }
    return out;
  });
}

export function gapFor(e: DataEvent, lostBytes: number): GapEvent {
  return { kind: 'gap', tsNs: e.tsNs, connId: e.connId, fd: e.fd, process: e.process, tuple: e.tuple, role: e.role, protocol: e.protocol, direction: e.direction, lostBytes };
}

export class CollectingSink implements ParserSink {
  readonly txs: Transaction[] = [];
  readonly counters: Record<string, number> = {};
  emit(tx: Transaction): void { this.txs.push(tx); }
  count(counter: string, n = 1): void { this.counters[counter] = (this.counters[counter] ?? 0) + n; }
}

/** Feeds events (data and gap) to a parser; closes if asked. Returns the sink. */
export function run(parser: ConnectionParser, sink: CollectingSink, events: readonly CaptureEvent[], close = false): CollectingSink {
  for (const e of events) {
    if (e.kind === 'data') parser.onData(e);
    else if (e.kind === 'gap') parser.onGap(e);
  }
  if (close && events.length > 0) {
    const last = events[events.length - 1]!;
    parser.onClose({ kind: 'close', tsNs: last.tsNs + 1, connId: last.connId, fd: last.fd, process: last.process, tuple: last.tuple, role: last.role, protocol: last.protocol });
  }
  return sink;
}

/** The fields a user checks, for comparing runs (no timestamps). */
export function summary(tx: Transaction): Record<string, unknown> {
  return {
    protocol: tx.protocol, streamId: tx.streamId, method: tx.http?.request.method, path: tx.http?.request.path,
    status: tx.http?.response?.status, grpc: tx.grpc, dns: tx.dns, error: tx.error,
    requestBytes: tx.requestBytes, responseBytes: tx.responseBytes, anomalies: tx.anomalies,
  };
}

/** hpack.js compressor (the independent encoder): headers → one header block. */
export function hpackCompressor(tableSize = 4096): (headers: [string, string][]) => Uint8Array {
  const hpack = require('hpack.js');
  // hpack.js reads table.maxSize (its README's table.size is ignored: the table would never evict).
  const comp = hpack.compressor.create({ table: { maxSize: tableSize } });
  return (headers) => {
    comp.write(headers.map(([name, value]) => ({ name, value })));
    const parts: Buffer[] = [];
    for (let c = comp.read(); c !== null; c = comp.read()) parts.push(c);
    return Uint8Array.from(Buffer.concat(parts));
  };
}

/** Builds one HTTP/2 frame. */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = (payload.length >> 16) & 0xff; out[1] = (payload.length >> 8) & 0xff; out[2] = payload.length & 0xff;
  out[3] = type; out[4] = flags;
  out[5] = (streamId >>> 24) & 0x7f; out[6] = (streamId >> 16) & 0xff; out[7] = (streamId >> 8) & 0xff; out[8] = streamId & 0xff;
  out.set(payload, 9);
  return out;
}
