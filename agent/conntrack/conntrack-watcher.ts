// ConntrackWatcher: follows the node's conntrack table through ctnetlink — one dump at start, then
// NEW/UPDATE/DESTROY events — so the agent knows where each DNATed connection really went (a Service
// VIP → the backend pod) even for connections gone before their span is built. Lookups are local map
// reads; nothing asks the kernel after the fact (the race that loses short connections).
import { decodeDatagram } from './ctnetlink-codec.js';
import { NatTable, type NatTarget, type TupleQuery } from './nat-table.js';
import { openInNamespace, openInProcess, type CtnetlinkSource, type Channel } from './ctnetlink-source.js';

export type { NatTarget, TupleQuery } from './nat-table.js';

export interface ConntrackWatcherOptions {
  /** Network namespace to watch, e.g. /proc/1/ns/net or /run/netns/x; default: the agent's own. */
  netnsPath?: string;
  /** Translated connections remembered at most (oldest go first). Default 65536. */
  maxEntries?: number;
  /** How long an entry outlives its DESTROY event. Default 30 s. */
  graceMs?: number;
  /** Called on socket trouble (the watcher keeps going); default: ignore. */
  onError?: (err: Error) => void;
}

export interface ConntrackCounters {
  /** Conntrack rows read from dumps. */
  dumpedEntries: number;
  /** NEW/UPDATE/DESTROY events read. */
  events: number;
  /** Translated connections currently held. */
  natEntries: number;
  /** Entries pushed out because the table was full. */
  evicted: number;
  /** Entries dropped after their grace period. */
  expired: number;
  /** Messages that did not decode. */
  malformed: number;
  /** Times the kernel dropped events (ENOBUFS) — each triggers a re-dump. */
  overruns: number;
  /** Other socket errors. */
  errors: number;
  lookups: number;
  lookupHits: number;
}

export class ConntrackWatcher {
  private readonly table: NatTable;
  private readonly c: Omit<ConntrackCounters, 'natEntries' | 'evicted'> = {
    dumpedEntries: 0, events: 0, expired: 0, malformed: 0, overruns: 0, errors: 0, lookups: 0, lookupHits: 0,
  };
  private source: CtnetlinkSource | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private dumpDone!: () => void;
  /** Resolves once the first dump finished (or failed): from then on lookups cover older connections too. */
  readonly ready: Promise<void>;

  private constructor(private readonly opts: ConntrackWatcherOptions) {
    this.table = new NatTable(opts.maxEntries ?? 65536, opts.graceMs ?? 30_000);
    this.ready = new Promise((r) => { this.dumpDone = r; });
  }

  /** Opens the sockets and starts the dump; throws when ctnetlink is unavailable (no CAP_NET_ADMIN, no nf_conntrack). */
  static async start(opts: ConntrackWatcherOptions = {}): Promise<ConntrackWatcher> {
    const w = new ConntrackWatcher(opts);
    const handlers = {
      datagram: (ch: Channel, b: Buffer) => w.onDatagram(ch, b),
      error: (e: Error & { code?: string }) => w.onError(e),
      exited: () => w.dumpDone(),
    };
    w.source = opts.netnsPath ? openInNamespace(opts.netnsPath, handlers) : openInProcess(handlers);
    const sweepEvery = Math.max(50, Math.min(5000, (opts.graceMs ?? 30_000) / 2));
    w.sweeper = setInterval(() => { w.c.expired += w.table.sweep(); }, sweepEvery);
    w.sweeper.unref();
    // A dump of a big table takes a while; don't hold the agent's start-up hostage to it forever.
    await Promise.race([w.ready, new Promise((r) => setTimeout(r, 5000).unref())]);
    return w;
  }

  /** Where the connection with this (local, remote) 4-tuple really went, when it was DNATed. */
  lookup(q: TupleQuery): NatTarget | null | undefined {
    this.c.lookups++;
    const t = this.table.lookup(q);
    if (t) this.c.lookupHits++;
    return t;
  }

  counters(): ConntrackCounters {
    return { ...this.c, natEntries: this.table.size, evicted: this.table.evicted };
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.source?.close();
    this.source = undefined;
    this.table.clear();
    this.dumpDone();
  }

  private onDatagram(ch: Channel, buf: Buffer): void {
    for (const m of decodeDatagram(buf)) {
      if (m.type === 'entry') {
        if (ch === 'events') { this.c.events++; this.table.apply(m.entry); }
        else {
          this.c.dumpedEntries++;
          // An event may already have told us more recent news about this connection.
          if (this.table.lookup({ localAddress: m.entry.orig.src, localPort: m.entry.orig.srcPort, remoteAddress: m.entry.orig.dst, remotePort: m.entry.orig.dstPort, protocol: m.entry.orig.proto === 17 ? 'udp' : 'tcp' }) === undefined) {
            this.table.apply(m.entry);
          }
        }
      } else if (m.type === 'done') { if (ch === 'dump') this.dumpDone(); }
      else if (m.type === 'malformed') this.c.malformed++;
      else if (m.type === 'error') { this.c.errors++; if (ch === 'dump') this.dumpDone(); this.opts.onError?.(new Error(`ctnetlink ${ch}: errno ${m.errno}`)); }
    }
  }

  private onError(e: Error & { code?: string }): void {
    if (e.code === 'ENOBUFS') {
      // Events were lost: the table may miss connections, so read the whole table again.
      this.c.overruns++;
      this.source?.redump();
    } else this.c.errors++;
    this.opts.onError?.(e);
  }
}
