// Half-edges waiting for their other half: a client span waits under (trace id, its span id), a
// server span under (trace id, its parent span id) — the same key, so the second arrival completes
// the edge. Bounded (max_items) and expiring (ttl); a Map keeps insertion order, and every entry has
// the same ttl, so expiry only ever looks at the oldest entries.

export interface HalfEdge {
  clientService?: string;
  serverService?: string;
  clientDims?: string[];
  serverDims?: string[];
  clientSeconds?: number;
  serverSeconds?: number;
  failed: boolean;
  messaging: boolean;
  /** For a virtual node when the server never shows up. */
  peer?: string;
  expiresAt: number;
}

export class EdgeStore {
  private readonly map = new Map<string, HalfEdge>();
  constructor(private readonly ttlMs: number, private readonly maxItems: number) {}

  get size(): number { return this.map.size; }

  /** Returns the waiting half for `key` (removed from the store), or undefined. */
  take(key: string): HalfEdge | undefined {
    const e = this.map.get(key);
    if (e) this.map.delete(key);
    return e;
  }

  /** Stores a half; false when the store is full (the caller counts the drop). */
  put(key: string, e: Omit<HalfEdge, 'expiresAt'>, now: number): boolean {
    if (this.map.size >= this.maxItems) return false;
    (e as HalfEdge).expiresAt = now + this.ttlMs;
    this.map.set(key, e as HalfEdge);
    return true;
  }

  /** Removes and yields every half whose ttl passed. */
  *expire(now: number): Generator<HalfEdge> {
    for (const [k, e] of this.map) {
      if (e.expiresAt > now) return;
      this.map.delete(k);
      yield e;
    }
  }

  *drain(): Generator<HalfEdge> {
    for (const e of this.map.values()) yield e;
    this.map.clear();
  }
}
