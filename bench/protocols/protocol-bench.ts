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
