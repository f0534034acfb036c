// HTTP/2 + DNS part of the protocol benchmark on its own: `node dist/bench/protocols/http2-dns-bench.js`.
// The same scenarios also run in the full `protocol-bench.js`; this adds how hpack.js and dns-packet
// behave on partially captured input, which (with the speed ratios) decided against them.
import { compare, defaultHarnessOptions, measure, printMeasurement } from './bench-harness.js';
import { comparisons, printCaptureBehaviour, scenarios } from './http2-dns-scenarios.js';

console.log(`HTTP/2 + DNS protocol benchmark — node ${process.version}, one core, median of ${defaultHarnessOptions.rounds} × ${defaultHarnessOptions.roundMs} ms`);
console.log('\nthroughput');
for (const s of scenarios) printMeasurement(measure(s));
console.log('\nsame input, ours vs library (ratio > 1: ours is faster)');
for (const c of comparisons) {
  const r = compare(c);
  console.log(` ${c.name}`);
  printMeasurement(r.ours);
  printMeasurement(r.baseline);
  console.log(`  ${'ratio ours / baseline'.padEnd(58)} ${r.ratio.toFixed(2).padStart(8)}×`);
}
console.log('\npartial capture');
printCaptureBehaviour();
