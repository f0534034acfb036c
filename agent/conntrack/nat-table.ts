// Bounded maps: original tuple → where the connection really went (the reply tuple's source), and
// the set of tuples conntrack reported untranslated. The second lets a lookup say "known, no NAT"
// (null) rather than "not known yet" (undefined), so the agent only holds a client span back for a
// late conntrack event when it has really not heard of the connection (signals/nat-late-lookup.ts);
// without it every keep-alive client span on a node was held. A DESTROY does not delete at once:
// the entry lives on for `graceMs`, because the agent builds a span after the response — a
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
  /** Untranslated tuples → expiry (Infinity while the connection lives). */
  private readonly plain = new Map<string, number>();
  evicted = 0;
  constructor(private readonly maxEntries: number, private readonly graceMs: number, private readonly now: () => number = Date.now) {}

  get size(): number { return this.rows.size; }
  get untranslatedSize(): number { return this.plain.size; }

  /** Applies one conntrack row or event. Returns true when the table changed. */
  apply(e: CtEntry): boolean {
    const { orig, reply } = e;
    const k = key(orig.proto, orig.src, orig.srcPort, orig.dst, orig.dstPort);
    // Destination translated: the reply comes from somewhere other than where the client dialed.
    if (orig.dst === reply.src && orig.dstPort === reply.srcPort) {
      this.applyPlain(k, e.kind === 'destroy');
      return false;
    }
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

  /** The NAT target; null when conntrack reported the connection untranslated; undefined when not known. */
  lookup(q: TupleQuery): NatTarget | null | undefined {
    const proto = PROTO[q.protocol ?? 'tcp'] ?? 6;
    const k = key(proto, normalizeAddress(q.localAddress), q.localPort, normalizeAddress(q.remoteAddress), q.remotePort);
    const row = this.rows.get(k);
    if (row) return row.expiresAt <= this.now() ? undefined : row.target;
    const plainUntil = this.plain.get(k);
    if (plainUntil === undefined || plainUntil <= this.now()) return undefined;
    return null;
  }

  private applyPlain(k: string, destroyed: boolean): void {
    const until = this.plain.get(k);
    if (destroyed) {
      if (until !== undefined) this.plain.set(k, Math.min(until, this.now() + this.graceMs));
      return;
    }
    if (until !== undefined) {
      this.plain.set(k, Infinity);
      return;
    }
    if (this.plain.size >= this.maxEntries) {
      // Oldest first (insertion order). An evicted tuple only costs its span a late-lookup wait.
      const first = this.plain.keys().next();
      if (!first.done) this.plain.delete(first.value);
    }
    this.plain.set(k, Infinity);
  }

  /** Drops rows whose grace period ended; returns how many. */
  sweep(): number {
    const t = this.now();
    let n = 0;
    for (const [k, r] of this.rows) if (r.expiresAt <= t) { this.rows.delete(k); n++; }
    for (const [k, until] of this.plain) if (until <= t) this.plain.delete(k);
    return n;
  }

  clear(): void { this.rows.clear(); this.plain.clear(); }

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
