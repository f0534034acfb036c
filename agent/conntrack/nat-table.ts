// Bounded map: original tuple → where the connection really went (the reply tuple's source).
// Only translated connections are kept (that is all a lookup can use). A DESTROY does not delete at
// once: the entry lives on for `graceMs`, because the agent builds a span after the response — a
// connection shorter than 10 ms is usually destroyed by then. Oldest entries go first when full.
import type { CtEntry } from './ctnetlink-codec.js';

export interface NatTarget { address: string; port: number }

export interface TupleQuery {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** 'tcp' (default) or 'udp'. */
  protocol?: 'tcp' | 'udp';
}

interface Row { target: NatTarget; expiresAt: number }

const PROTO: Record<string, number> = { tcp: 6, udp: 17 };

/** Agents see IPv4 peers on dual-stack sockets as ::ffff:a.b.c.d; conntrack keys them as IPv4. */
export const normalizeAddress = (a: string) => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a.toLowerCase());

const key = (proto: number, src: string, sport: number, dst: string, dport: number) =>
  `${proto}|${src}|${sport}|${dst}|${dport}`;

export class NatTable {
  private readonly rows = new Map<string, Row>();
  evicted = 0;
  constructor(private readonly maxEntries: number, private readonly graceMs: number, private readonly now: () => number = Date.now) {}

  get size(): number { return this.rows.size; }

  /** Applies one conntrack row or event. Returns true when the table changed. */
  apply(e: CtEntry): boolean {
    const { orig, reply } = e;
    // Destination translated: the reply comes from somewhere other than where the client dialed.
    if (orig.dst === reply.src && orig.dstPort === reply.srcPort) return false;
    const k = key(orig.proto, orig.src, orig.srcPort, orig.dst, orig.dstPort);
    if (e.kind === 'destroy') {
      const row = this.rows.get(k);
      if (!row) return false;
      row.expiresAt = Math.min(row.expiresAt, this.now() + this.graceMs);
      return true;
    }
    const existing = this.rows.get(k);
    if (existing) {
      existing.target = { address: reply.src, port: reply.srcPort };
      existing.expiresAt = Infinity;
      return true;
    }
    if (this.rows.size >= this.maxEntries) this.evictOne();
    this.rows.set(k, { target: { address: reply.src, port: reply.srcPort }, expiresAt: Infinity });
    return true;
  }

  lookup(q: TupleQuery): NatTarget | undefined {
    const proto = PROTO[q.protocol ?? 'tcp'] ?? 6;
    const row = this.rows.get(key(proto, normalizeAddress(q.localAddress), q.localPort, normalizeAddress(q.remoteAddress), q.remotePort));
    if (!row) return undefined;
    if (row.expiresAt <= this.now()) return undefined;
    return row.target;
  }

  /** Drops rows whose grace period ended; returns how many. */
  sweep(): number {
    const t = this.now();
    let n = 0;
    for (const [k, r] of this.rows) if (r.expiresAt <= t) { this.rows.delete(k); n++; }
    return n;
  }

  clear(): void { this.rows.clear(); }

  private evictOne(): void {
    // Prefer a destroyed row (oldest first); else the oldest live one. Map order = insertion order.
    // The scan is capped so a full table of live rows keeps inserts O(1).
    let scanned = 0;
    for (const [k, r] of this.rows) {
      if (r.expiresAt !== Infinity) { this.rows.delete(k); this.evicted++; return; }
      if (++scanned >= 64) break;
    }
    const first = this.rows.keys().next();
    if (!first.done) { this.rows.delete(first.value); this.evicted++; }
  }
}
