// Per service and operation (route / RPC method / DNS type): request rate, error rate and latency
// quantiles over a sliding window, for the live terminal view. Latencies go into log-spaced
// buckets (≈4% wide) so a quantile costs a bucket walk, not a sort.
const BUCKETS = 400;
const BASE = 1.04;
const MIN_S = 1e-6;

function bucketOf(seconds: number): number {
  if (seconds <= MIN_S) return 0;
  const b = Math.floor(Math.log(seconds / MIN_S) / Math.log(BASE)) + 1;
  return b >= BUCKETS ? BUCKETS - 1 : b;
}
const upperOf = (b: number) => MIN_S * Math.pow(BASE, b);

class Window {
  count = 0;
  errors = 0;
  readonly hist = new Uint32Array(BUCKETS);
  reset(): void { this.count = 0; this.errors = 0; this.hist.fill(0); }
}

export interface LiveRow {
  service: string;
  operation: string;
  kind: 'server' | 'client';
  ratePerS: number;
  errorRate: number;
  p50S: number;
  p99S: number;
  total: number;
}

interface Entry { service: string; operation: string; kind: 'server' | 'client'; slots: Window[]; total: number }

/** Keeps `slotCount` slots of `slotMs` each: the window is their sum. */
export class LiveStats {
  private readonly entries = new Map<string, Entry>();
  private slot = 0;
  private slotStart: number;
  dropped = 0;

  constructor(private readonly slotMs = 1000, private readonly slotCount = 10, private readonly maxEntries = 2000, private readonly now = () => Date.now()) {
    this.slotStart = now();
  }

  record(service: string, operation: string, kind: 'server' | 'client', seconds: number, isError: boolean): void {
    this.advance();
    const key = `${service}\0${kind}\0${operation}`;
    let e = this.entries.get(key);
    if (!e) {
      if (this.entries.size >= this.maxEntries) { this.dropped++; return; }
      e = { service, operation, kind, slots: Array.from({ length: this.slotCount }, () => new Window()), total: 0 };
      this.entries.set(key, e);
    }
    const w = e.slots[this.slot]!;
    w.count++;
    if (isError) w.errors++;
    w.hist[bucketOf(seconds)]!++;
    e.total++;
  }

  rows(): LiveRow[] {
    this.advance();
    const spanS = (this.slotCount - 1) * this.slotMs / 1000 + Math.max(0.001, (this.now() - this.slotStart) / 1000);
    const out: LiveRow[] = [];
    const hist = new Uint32Array(BUCKETS);
    for (const e of this.entries.values()) {
      hist.fill(0);
      let count = 0, errors = 0;
      for (const w of e.slots) {
        count += w.count; errors += w.errors;
        for (let i = 0; i < BUCKETS; i++) hist[i]! += w.hist[i]!;
      }
      out.push({ service: e.service, operation: e.operation, kind: e.kind, total: e.total,
        ratePerS: count / spanS, errorRate: count ? errors / count : 0,
        p50S: quantile(hist, count, 0.5), p99S: quantile(hist, count, 0.99) });
    }
    return out.sort((a, b) => b.ratePerS - a.ratePerS || b.total - a.total);
  }

  private advance(): void {
    const now = this.now();
    let steps = Math.floor((now - this.slotStart) / this.slotMs);
    if (steps <= 0) return;
    this.slotStart += steps * this.slotMs;
    steps = Math.min(steps, this.slotCount);
    for (let i = 0; i < steps; i++) {
      this.slot = (this.slot + 1) % this.slotCount;
      for (const e of this.entries.values()) e.slots[this.slot]!.reset();
    }
  }
}

function quantile(hist: Uint32Array, count: number, q: number): number {
  if (count === 0) return 0;
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= rank) return upperOf(i);
  }
  return upperOf(hist.length - 1);
}
