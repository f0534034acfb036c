// Shared by the http2/hpack/dns fuzz scripts: a seeded PRNG, the recorded fixtures as event lists,
// and the mutations capture damage resembles (bit flips, overwritten, inserted and deleted bytes,
// caps, lost events, re-split syscalls, reordering).
import { readFileSync } from 'node:fs';
import type { CaptureEvent, DataEvent, Direction, Role, Transport } from '../../agent/capture/capture-events.js';

export class Rng {
  constructor(private s: number) { if (this.s === 0) this.s = 0x9e3779b9; }
  next(): number { // xorshift32
    let x = this.s; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; this.s = x >>> 0; return this.s;
  }
  int(n: number): number { return n <= 0 ? 0 : this.next() % n; }
  chance(p: number): boolean { return this.next() / 0x100000000 < p; }
}

const fixtureRoot = new URL('../../../test/fixtures/protocols/', import.meta.url).pathname;

export function fixtureEvents(area: string, name: string, role: Role = 'client'): DataEvent[] {
  const raw = JSON.parse(readFileSync(`${fixtureRoot}${area}/${name}.json`, 'utf8')) as { transport: Transport; chunks: { dir: string; hex: string }[] };
  const offsets: Record<Direction, number> = { egress: 0, ingress: 0 };
  return raw.chunks.map((c, i) => {
    const direction: Direction = (c.dir === 'c2s') === (role !== 'server') ? 'egress' : 'ingress';
    const bytes = Uint8Array.from(Buffer.from(c.hex, 'hex'));
    const ev: DataEvent = {
      kind: 'data', tsNs: (i + 1) * 1e6, connId: 1, fd: 3, role, protocol: 'unknown', direction, syscall: 'read',
      process: { pid: 1, tid: 1, comm: 'fuzz', cgroupId: 0n, netns: 1 },
      tuple: { family: 4, transport: raw.transport, localAddr: '127.0.0.1', localPort: 1, remoteAddr: '127.0.0.1', remotePort: 2 },
      bytes, totalBytes: bytes.length, offset: offsets[direction],
    };
    offsets[direction] += bytes.length;
    return ev;
  });
}

/** Byte-level damage to one buffer. */
export function mutateBytes(rng: Rng, b: Uint8Array): Uint8Array {
  const out = Array.from(b);
  const n = 1 + rng.int(4);
  for (let k = 0; k < n; k++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(6)) {
      case 0: if (out.length) out[at % out.length]! ^= 1 << rng.int(8); break;
      case 1: if (out.length) out[at % out.length] = rng.int(256); break;
      case 2: out.splice(at, 0, ...Array.from({ length: 1 + rng.int(8) }, () => rng.int(256))); break;
      case 3: out.splice(at, 1 + rng.int(16)); break;
      case 4: if (out.length) out[at % out.length] = [0, 0xff, 0x7f, 0x80, 0xc0][rng.int(5)]!; break;
      default: out.length = Math.min(out.length, at); break;
    }
  }
  return Uint8Array.from(out);
}

/** Event-level damage: mutated bytes, caps, gaps, splits, drops, reordering. */
export function mutateEvents(rng: Rng, events: readonly DataEvent[]): CaptureEvent[] {
  let evs: CaptureEvent[] = events.map((e) => ({ ...e }));
  const n = 1 + rng.int(5);
  for (let k = 0; k < n && evs.length; k++) {
    const i = rng.int(evs.length);
    const e = evs[i]!;
    if (e.kind !== 'data') continue;
    switch (rng.int(7)) {
      case 0: case 1: { const b = mutateBytes(rng, e.bytes); evs[i] = { ...e, bytes: b, totalBytes: b.length + (rng.chance(0.2) ? rng.int(1000) : 0) }; break; }
      case 2: evs[i] = { ...e, bytes: e.bytes.subarray(0, rng.int(e.bytes.length + 1)) }; break; // capped
      case 3: evs[i] = { kind: 'gap', tsNs: e.tsNs, connId: e.connId, fd: e.fd, process: e.process, tuple: e.tuple, role: e.role, protocol: e.protocol, direction: e.direction, lostBytes: rng.chance(0.1) ? 0 : e.totalBytes }; break;
      case 4: evs.splice(i, 1); break;
      case 5: { const j = rng.int(e.bytes.length); evs.splice(i, 1, { ...e, bytes: e.bytes.subarray(0, j), totalBytes: j }, { ...e, bytes: e.bytes.subarray(j), totalBytes: e.totalBytes - j, offset: e.offset + j }); break; }
      default: if (i + 1 < evs.length) { const t = evs[i + 1]!; evs[i + 1] = e; evs[i] = t; } break;
    }
  }
  return evs;
}

export interface FuzzReport {
  target: string;
  iterations: number;
  exceptions: number;
  firstException?: string;
  transactions: number;
  maxBufferedBytes: number;
  heapStartMB: number;
  heapMaxMB: number;
  seconds: number;
}

export function printReport(r: FuzzReport): void {
  console.log(`${r.target}: ${r.iterations} mutated inputs in ${r.seconds.toFixed(1)} s — exceptions ${r.exceptions}, transactions ${r.transactions}, ` +
    `max buffered ${r.maxBufferedBytes} B, heap ${r.heapStartMB.toFixed(1)} → max ${r.heapMaxMB.toFixed(1)} MB`);
  if (r.firstException) console.log(`  first exception: ${r.firstException}`);
}

/** Runs `one(i)` n times, catching and counting exceptions, sampling heap use. */
export function fuzzLoop(target: string, n: number, one: (i: number) => { txs: number; buffered: number }): FuzzReport {
  const heapStart = process.memoryUsage().heapUsed / 1048576;
  let heapMax = heapStart;
  const r: FuzzReport = { target, iterations: n, exceptions: 0, transactions: 0, maxBufferedBytes: 0, heapStartMB: heapStart, heapMaxMB: heapStart, seconds: 0 };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    try {
      const { txs, buffered } = one(i);
      r.transactions += txs;
      if (buffered > r.maxBufferedBytes) r.maxBufferedBytes = buffered;
    } catch (err) {
      r.exceptions++;
      r.firstException ??= `iteration ${i}: ${(err as Error).stack ?? String(err)}`;
    }
    if ((i & 4095) === 0) heapMax = Math.max(heapMax, process.memoryUsage().heapUsed / 1048576);
  }
  r.heapMaxMB = Math.max(heapMax, process.memoryUsage().heapUsed / 1048576);
  r.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return r;
}
