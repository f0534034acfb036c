// Named self-telemetry counters. A plain object keyed by name is the fastest map for the small,
// stable set of names the parsers use.
export class CounterSet {
  private values: Record<string, number> = Object.create(null) as Record<string, number>;

  add(name: string, n = 1): void {
    this.values[name] = (this.values[name] ?? 0) + n;
  }

  get(name: string): number {
    return this.values[name] ?? 0;
  }

  snapshot(): Record<string, number> {
    return { ...this.values };
  }
}
