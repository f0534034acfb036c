// The protocol benchmark: `node dist/bench/protocols/protocol-bench.js [filter]`.
// Loads every *-scenarios.js next to this file (HTTP/1.1 here; others add theirs), prints
// transactions/s per core for each scenario and ours-vs-baseline ratios measured in the same run.
import { readdirSync } from 'node:fs';
import { compare, defaultHarnessOptions, measure, printMeasurement, type Comparison, type Scenario } from './bench-harness.js';

const here = new URL('.', import.meta.url);
const filter = process.argv[2];
const scenarios: Scenario[] = [];
const comparisons: Comparison[] = [];
for (const file of readdirSync(here).filter((f) => f.endsWith('-scenarios.js')).sort()) {
  const mod = (await import(new URL(file, here).href)) as { scenarios?: Scenario[]; comparisons?: Comparison[] };
  scenarios.push(...(mod.scenarios ?? []));
  comparisons.push(...(mod.comparisons ?? []));
}
const pick = <T extends { name: string }>(xs: T[]) => (filter ? xs.filter((x) => x.name.includes(filter)) : xs);

console.log(`protocol engine benchmark — node ${process.version}, per CPU-second of this process (one core), median of ${defaultHarnessOptions.rounds} × ${defaultHarnessOptions.roundMs} ms CPU`);
// A fixed CPU loop, timed like the scenarios: on a shared VM back-to-back runs of it alone vary by
// up to 1.6×, so compare figures across runs only together with this line (ratios are in-run).
const lane = new Uint8Array(4096).map((_, i) => i & 255);
const calibration = measure({ name: 'calibration: fixed CPU loop (machine speed now)', unit: 'loop', setup: () => () => {
  let x = 0;
  for (let i = 0; i < lane.length; i++) x = (x + lane[i]! * 31) | 0;
  return x === 0.5 ? 0 : 1;
} });
console.log('');
printMeasurement(calibration);
console.log('\nthroughput');
for (const s of pick(scenarios)) printMeasurement(measure(s));
const cmp = pick(comparisons);
if (cmp.length > 0) console.log('\nsame byte stream, ours vs baseline (ratio > 1: ours is faster)');
for (const c of cmp) {
  const r = compare(c);
  console.log(` ${c.name}`);
  printMeasurement(r.ours);
  printMeasurement(r.baseline);
  console.log(`  ${'ratio ours / baseline'.padEnd(58)} ${r.ratio.toFixed(2).padStart(8)}×`);
}
