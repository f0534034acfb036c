// The resets network health saw, per connection (network namespace + both ends), kept briefly so
// the span builder can tell a transaction that its connection was reset (agent/signals/connection-reset.ts).
// Bounded: at most maxEntries connections, oldest first out, each kept keepNs.
import type { SocketTuple } from '../capture/capture-events.js';
import type { ConnectionReset, ConnectionResetLookup } from '../signals/connection-reset.js';
import type { TcpEvent } from './tcp-event-decoder.js';
import { TCP_STATE_NAMES } from './tcp-event-layout.js';
import type { ResetReasons } from './reset-reasons.js';

type Ends = Pick<SocketTuple, 'localAddr' | 'localPort' | 'remoteAddr' | 'remotePort'>;

const key = (netns: number, t: Ends) => `${netns}|${t.localAddr}|${t.localPort}|${t.remoteAddr}|${t.remotePort}`;

export class ConnectionResets implements ConnectionResetLookup {
  private readonly seen = new Map<string, ConnectionReset>();
  /** Resets forgotten before keepNs was over because maxEntries connections were held. */
  evicted = 0;

  /** `drain`: delivers the records already in the kernel's ring, so a lookup sees the resets that
   *  happened before the transaction was built (the ring is otherwise drained every 100 ms). */
  constructor(private readonly reasons: ResetReasons, private readonly drain: () => void = () => undefined,
    private readonly maxEntries = 4096, private readonly keepNs = 30e9) {}

  record(e: TcpEvent): void {
    if ((e.kind !== 'reset_sent' && e.kind !== 'reset_received') || e.noSocket || e.sock === 0n) return;
    const k = key(e.netns, e);
    this.expire(e.tsNs);
    if (this.seen.has(k)) this.seen.delete(k); // the latest reset of a reused tuple, moved to the young end
    else if (this.seen.size >= this.maxEntries) { this.seen.delete(this.seen.keys().next().value!); this.evicted++; }
    const r: ConnectionReset = { direction: e.kind === 'reset_sent' ? 'sent' : 'received', tsNs: e.tsNs };
    if (e.state) r.state = TCP_STATE_NAMES[e.state] ?? String(e.state);
    if (e.resetReason !== undefined) r.reason = this.reasons.name(e.resetReason);
    this.seen.set(k, r);
  }

  find(netns: number, tuple: SocketTuple, fromNs: number, toNs: number): ConnectionReset | undefined {
    this.drain();
    const r = this.seen.get(key(netns, tuple));
    return r && r.tsNs >= fromNs && r.tsNs <= toNs ? r : undefined;
  }

  get size(): number { return this.seen.size; }

  /** Entries are in arrival order (≈ time order): drop those older than keepNs from the old end. */
  private expire(nowNs: number): void {
    for (const [k, r] of this.seen) {
      if (r.tsNs >= nowNs - this.keepNs) return;
      this.seen.delete(k);
    }
  }
}
