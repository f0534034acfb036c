// Test helper: builds the CaptureEvents of one connection the way the kernel capture reports them
// (per-direction stream offsets, true byte counts, optional capping, gap markers).
import type { CaptureEvent, Direction, L7Protocol, Role } from '../../../agent/capture/capture-events.js';
import type { Transaction } from '../../../agent/protocols/transaction.js';
import { ProtocolEngine } from '../../../agent/protocols/engine/protocol-engine.js';
import type { EngineOptions } from '../../../agent/protocols/engine/engine-options.js';

export class EventScript {
  readonly events: CaptureEvent[] = [];
  private readonly offsets = { egress: 0, ingress: 0 };
  tsNs = 1_000_000;

  constructor(readonly connId = 1, readonly role: Role = 'client', readonly protocol: L7Protocol = 'http1') {}

  private base() {
    return {
      tsNs: (this.tsNs += 1000), connId: this.connId, fd: 5, role: this.role, protocol: this.protocol,
      process: { pid: 100, tid: 100, comm: 'test', cgroupId: 1n, netns: 4026531840 },
      tuple: { family: 4 as const, transport: 'tcp' as const, localAddr: '127.0.0.1', localPort: 40000, remoteAddr: '127.0.0.1', remotePort: 8080 },
    };
  }

  /** One syscall's worth of bytes; `cap` limits what is captured (the rest counts in totalBytes only). */
  data(direction: Direction, payload: string | Uint8Array, cap = Infinity): this {
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
    const captured = bytes.length > cap ? bytes.subarray(0, cap) : bytes;
    this.events.push({ ...this.base(), kind: 'data', direction, syscall: direction === 'egress' ? 'writev' : 'read', bytes: Buffer.from(captured) /* a Buffer, often a view into a shared pool slab, as the capture decoder hands them */, totalBytes: bytes.length, offset: this.offsets[direction] });
    this.offsets[direction] += bytes.length;
    return this;
  }

  /** Lost events: `lostBytes` of the stream never reach userspace. */
  gap(direction: Direction, lostBytes: number): this {
    this.events.push({ ...this.base(), kind: 'gap', direction, lostBytes });
    this.offsets[direction] += lostBytes;
    return this;
  }

  close(): this {
    this.events.push({ ...this.base(), kind: 'close' });
    return this;
  }
}

/** Runs events through a fresh engine; returns transactions and counters. */
export function runEngine(events: CaptureEvent[], options?: Partial<EngineOptions>): { txs: Transaction[]; counters: Record<string, number>; engine: ProtocolEngine } {
  const txs: Transaction[] = [];
  const engine = new ProtocolEngine(options, (tx) => txs.push(tx));
  engine.push(events);
  return { txs, counters: engine.counters(), engine };
}
