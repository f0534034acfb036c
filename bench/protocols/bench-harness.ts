// A small benchmark harness for the protocol engine: a scenario runs a batch of work and says how
// many transactions (or messages) it handled; the harness times repeated batches on this one core
// and prints figures, and prints comparisons as side-by-side ratios measured in the same run.
// Extend it by adding a `*-scenarios.ts` file next to protocol-bench.ts exporting `scenarios`
// and optionally `comparisons` (protocol-bench.ts loads every such file).

export interface Scenario {
  /** Shown in the table, e.g. 'http1 engine: small keep-alive GETs'. */
  name: string;
  /** Prepares inputs (not timed) and returns the timed batch, which returns the units it handled. */
  setup(): () => number;
  /** What one unit is ('tx', 'msg', ...). */
  unit?: string;
  /** Bytes moved per unit, to print MB/s (optional). */
  bytesPerUnit?: number;
}

/** Two scenarios on the same input; the ratio is ours / baseline in units per second. */
export interface Comparison {
  name: string;
  ours: Scenario;
  baseline: Scenario;
}

export interface Measurement {
  name: string;
  unitsPerSec: number;
  unit: string;
  mbPerSec?: number;
  runs: number[];
}

export interface HarnessOptions {
  /** Timed rounds per scenario (median reported). */
  rounds: number;
  /** Minimum time per round. */
  roundMs: number;
  /** Untimed warm-up. */
  warmupMs: number;
}

export const defaultHarnessOptions: HarnessOptions = { rounds: 5, roundMs: 300, warmupMs: 300 };

/**
 * Runs batches for `ms` of this process's CPU time and returns units per CPU-second: "per core"
 * figures that other processes on a shared machine do not distort the way wall time would.
 */
function runFor(batch: () => number, ms: number): number {
  let units = 0;
  const start = process.cpuUsage();
  const limitUs = ms * 1000;
  let usedUs = 0;
  do {
    units += batch();
    const d = process.cpuUsage(start);
    usedUs = d.user + d.system;
  } while (usedUs < limitUs);
  return units / (usedUs / 1e6);
}

export function measure(s: Scenario, opts: HarnessOptions = defaultHarnessOptions): Measurement {
  const batch = s.setup();
  runFor(batch, opts.warmupMs);
  const runs: number[] = [];
  for (let i = 0; i < opts.rounds; i++) runs.push(runFor(batch, opts.roundMs));
  const sorted = [...runs].sort((a, b) => a - b);
  const unitsPerSec = sorted[Math.floor(sorted.length / 2)]!;
  const m: Measurement = { name: s.name, unitsPerSec, unit: s.unit ?? 'tx', runs };
  if (s.bytesPerUnit !== undefined) m.mbPerSec = (unitsPerSec * s.bytesPerUnit) / 1e6;
  return m;
}

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));

export function printMeasurement(m: Measurement): void {
  const spread = `${fmt(Math.min(...m.runs))}..${fmt(Math.max(...m.runs))}`;
  const mb = m.mbPerSec !== undefined ? `  ${m.mbPerSec.toFixed(0).padStart(6)} MB/s` : '';
  console.log(`  ${m.name.padEnd(58)} ${fmt(m.unitsPerSec).padStart(8)} ${m.unit}/s  (${spread})${mb}`);
}

/** Measures both sides alternately (A, B, A, B, ...) so drift hits both alike; returns the ratio. */
export function compare(c: Comparison, opts: HarnessOptions = defaultHarnessOptions): { ours: Measurement; baseline: Measurement; ratio: number } {
  const a = c.ours.setup(), b = c.baseline.setup();
  runFor(a, opts.warmupMs);
  runFor(b, opts.warmupMs);
  const ra: number[] = [], rb: number[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    ra.push(runFor(a, opts.roundMs));
    rb.push(runFor(b, opts.roundMs));
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const mk = (s: Scenario, runs: number[]): Measurement => {
    const m: Measurement = { name: s.name, unitsPerSec: med(runs), unit: s.unit ?? 'tx', runs };
    if (s.bytesPerUnit !== undefined) m.mbPerSec = (m.unitsPerSec * s.bytesPerUnit) / 1e6;
    return m;
  };
  const ours = mk(c.ours, ra), baseline = mk(c.baseline, rb);
  return { ours, baseline, ratio: ours.unitsPerSec / baseline.unitsPerSec };
}
