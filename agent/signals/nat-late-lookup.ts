// A second chance for the NAT lookup of a client span. The conntrack event of a connection is
// queued in the kernel before its response even returns, but the agent reads it on another channel
// (a netlink socket, or the relay's pipe) than the capture ring buffer, so a span can be built
// before its NAT entry is read — on a busy 2-core machine by tens of milliseconds (the end-to-end
// test saw 30–80 of 200 spans miss at build time). A client span of a connection conntrack has not
// reported yet (neither translated nor untranslated) is held for `waitMs`, looked up once more,
// then released to export either way. Only those wait, and spans wait in the export batch anyway,
// so this costs one more map lookup per miss and a little latency for them — nothing for the rest.
import type { SocketTuple } from '../capture/capture-events.js';
import { addNatPeer, type NatLookup } from '../conntrack/nat-span-attributes.js';

interface Held<S> { span: S; tuple: SocketTuple; due: number }

export class NatLateLookup<S extends { attributes: object }> {
  /** Spans whose build-time lookup missed; weak so a span that is never emitted leaves no entry. */
  private readonly pending = new WeakMap<S, SocketTuple>();
  /** FIFO: every span waits the same time, so deadlines are in order. */
  private held: Held<S>[] = [];
  private head = 0;
  /** Resolved by the second lookup (the first had raced the conntrack event). */
  lateHits = 0;
  /** Still without NAT after the wait: not translated (or the conntrack event was lost). */
  misses = 0;
  /** Released early because `maxHeld` spans were already waiting. */
  releasedEarly = 0;

  constructor(private readonly nat: NatLookup, private readonly waitMs: number, private readonly release: (span: S) => void,
    private readonly maxHeld = 16_384, private readonly now: () => number = Date.now) {}

  get heldCount(): number { return this.held.length - this.head; }

  /** Marks a just-built span whose lookup missed. */
  missed(span: S, tuple: SocketTuple): void {
    this.pending.set(span, tuple);
  }

  /** Called when the span is ready to go: true when it is held back (released later by tick/flush). */
  hold(span: S): boolean {
    const tuple = this.pending.get(span);
    if (!tuple) return false;
    this.pending.delete(span);
    if (this.heldCount >= this.maxHeld) { this.releasedEarly++; this.resolveAndRelease(this.held[this.head++]!); }
    this.held.push({ span, tuple, due: this.now() + this.waitMs });
    return true;
  }

  /** Releases the spans whose wait is over. */
  tick(): void {
    const now = this.now();
    while (this.head < this.held.length && this.held[this.head]!.due <= now) this.resolveAndRelease(this.held[this.head++]!);
    if (this.head > 1024 && this.head * 2 > this.held.length) { this.held = this.held.slice(this.head); this.head = 0; }
  }

  /** Releases everything now (shutdown, flush). */
  flush(): void {
    while (this.head < this.held.length) this.resolveAndRelease(this.held[this.head++]!);
    this.held = [];
    this.head = 0;
  }

  private resolveAndRelease(h: Held<S>): void {
    if (addNatPeer(this.nat, h.tuple, h.span.attributes as Record<string, unknown>) === 'translated') this.lateHits++;
    else this.misses++;
    this.release(h.span);
  }
}
