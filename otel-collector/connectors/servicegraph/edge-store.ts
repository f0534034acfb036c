// Half-edges waiting for their other half: a client span waits under (trace id, its span id), a
// server span under (trace id, its parent span id) — the same key, so the second arrival completes
// the edge. Bounded (max_items) and expiring (ttl); a Map keeps insertion order, and every entry has
// the same ttl, so expiry only ever looks at the oldest entries.

/** One fixed shape for every half (a class, not literals/spreads: this is the per-span hot path). */
export class HalfEdge {
  clientService: string | undefined = undefined;
  serverService: string | undefined = undefined;
  clientDims: string[] | undefined = undefined;
  serverDims: string[] | undefined = undefined;
  clientSeconds: number | undefined = undefined;
  serverSeconds: number | undefined = undefined;
  failed = false;
  messaging = false;
  /** For a virtual node when the server never shows up. */
  peer: string | undefined = undefined;
  expiresAt = 0;
}

export class EdgeStore {
  private readonly map = new Map<string, HalfEdge>();
  constructor(private readonly ttlMs: number, private readonly maxItems: number) {}

  get size(): number { return this.map.size; }

  /** Returns the waiting half for `key` (removed from the store), or undefined. */
  take(key: string): HalfEdge | undefined {
    const e = this.map.get(key);
    if (e !== undefined) this.map.delete(key);
    return e;
  }

  /** Stores a half; false when the store is full (the caller counts the drop). */
  put(key: string, e: HalfEdge, now: number): boolean {
    if (this.map.size >= this.maxItems) return false;
    e.expiresAt = now + this.ttlMs;
    this.map.set(key, e);
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
}
