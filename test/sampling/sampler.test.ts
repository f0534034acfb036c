// The sampler's decision (one per trace, from the trace's randomness; parent thresholds only
// raised), the ot= tracestate read/write, and the CPU budget controller's deterministic steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsistentSampler, type DecidableSpan } from '../../agent/sampling/consistent-sampler.js';
import { CpuBudgetController } from '../../agent/sampling/cpu-budget.js';
import { formatTracestate, parseTracestate } from '../../agent/sampling/ot-tracestate.js';
import { formatTh, parseTh, powerOfTwoThreshold } from '../../agent/sampling/threshold.js';
import { newTraceId } from '../../agent/signals/trace-context.js';

const span = (traceId: string): DecidableSpan => ({ traceId, sampled: undefined, traceState: undefined });
/** A trace id whose randomness (last 14 hex digits) is `r`. */
const withR = (r: string) => `0123456789abcdef01${r}`;

test('tracestate: ot=th/rv read, other members and ot sub-keys kept; ot goes first when written', () => {
  const s = parseTracestate('vendor=abc,ot=rv:0123456789abcd;th:c;x:1, other=2');
  assert.equal(s?.th, parseTh('c'));
  assert.equal(s?.rv, '0123456789abcd');
  assert.equal(s?.otRest, 'rv:0123456789abcd;x:1');
  assert.equal(s?.others, 'vendor=abc,other=2');
  assert.equal(formatTracestate(parseTh('e')!, s), 'ot=th:e;rv:0123456789abcd;x:1,vendor=abc,other=2');
  assert.equal(formatTracestate(0n), 'ot=th:0');
  assert.equal(parseTracestate(undefined), undefined);
  // Malformed values are ignored, never thrown; an oversized header keeps only our member.
  const bad = parseTracestate('ot=th:xyz;rv:12,a=b');
  assert.equal(bad?.th, undefined);
  assert.equal(bad?.rv, undefined);
  const huge = parseTracestate(`ot=th:8,${'v=' + 'x'.repeat(600)}`);
  assert.equal(huge?.th, parseTh('8'));
  assert.equal(huge?.others, '');
});

test('no pressure: every span kept with ot=th:0', () => {
  const s = new ConsistentSampler();
  for (let i = 0; i < 1000; i++) {
    const sp = span(newTraceId());
    assert.equal(s.decide(sp), true);
    assert.equal(sp.traceState?.serialize(), 'ot=th:0');
  }
  assert.equal(s.sampledOutTotal, 0);
});

test('one decision per trace: the same trace id decides alike, a decided span keeps its decision', () => {
  const s = new ConsistentSampler();
  s.setThreshold(parseTh('c')!, 'configured');
  for (let i = 0; i < 500; i++) {
    const id = newTraceId();
    const a = span(id), b = span(id);
    assert.equal(s.decide(a), s.decide(b));
    assert.equal(a.traceState?.serialize(), b.traceState?.serialize());
  }
  const kept = span(withR('ffffffffffffff'));
  s.decide(kept);
  s.setThreshold(powerOfTwoThreshold(10), 'cpu_budget'); // pressure rose after the first side decided
  assert.equal(s.decide(kept), true); // the other side inherits the decision (peer-linker copies it)
});

test('forced probability 1/4: about a quarter kept, th:c on each, sampled-out counted as configured', () => {
  const s = new ConsistentSampler();
  s.setThreshold(parseTh('c')!, 'configured');
  let kept = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) if (s.decide(span(newTraceId()))) kept++;
  // Binomial(n, 1/4): 3 standard errors ≈ 184.
  assert.ok(Math.abs(kept - n / 4) < 3 * Math.sqrt(n * 0.25 * 0.75), `kept ${kept}`);
  assert.equal(s.sampledOut.configured, n - kept);
});

test('parent threshold: kept as is when higher than ours, raised to ours when lower, never lowered', () => {
  const s = new ConsistentSampler();
  // Ours 0: the request's th:8 stays (and R >= 8 keeps it).
  let sp = span(withR('90000000000000'));
  assert.equal(s.decide(sp, parseTracestate('ot=th:8'), true), true);
  assert.equal(sp.traceState?.serialize(), 'ot=th:8');
  // Ours c (1/4) is higher than the request's 8: raised to c; this trace (R 0x90…) is now below it.
  s.setThreshold(parseTh('c')!, 'cpu_budget');
  sp = span(withR('90000000000000'));
  assert.equal(s.decide(sp, parseTracestate('ot=th:8'), true), false);
  assert.equal(s.sampledOut.cpu_budget, 1);
  sp = span(withR('d0000000000000'));
  assert.equal(s.decide(sp, parseTracestate('ot=th:8'), true), true);
  assert.equal(sp.traceState?.serialize(), 'ot=th:c');
  // The request's f (1/16) is higher than our c: it stays, and decides (an upstream that did not
  // sample this trace, flag 0: not kept here either).
  sp = span(withR('d0000000000000'));
  assert.equal(s.decide(sp, parseTracestate('ot=th:f,vendor=1'), false), false);
  assert.equal(s.sampledOut.parent, 1);
  sp = span(withR('f8000000000000'));
  assert.equal(s.decide(sp, parseTracestate('ot=th:f,vendor=1'), true), true);
  assert.equal(sp.traceState?.serialize(), 'ot=th:f,vendor=1');
});

test('parent threshold contradicted by the sampled flag is erased; rv overrides the trace id', () => {
  const s = new ConsistentSampler();
  const sp = span(withR('10000000000000')); // R below th:8, yet the parent says sampled
  assert.equal(s.decide(sp, parseTracestate('ot=th:8'), true), true);
  assert.equal(sp.traceState?.serialize(), 'ot=th:0');
  assert.equal(s.inconsistentErased, 1);
  // Explicit randomness decides instead of the trace id, and travels on.
  s.setThreshold(parseTh('8')!, 'configured');
  const viaRv = span(withR('00000000000000'));
  assert.equal(s.decide(viaRv, parseTracestate('ot=rv:ffffffffffffff')), true);
  assert.equal(viaRv.traceState?.serialize(), 'ot=th:8;rv:ffffffffffffff');
});

test('CPU budget: down fast (log2 of the overshoot), up one step after 3 calm intervals, hold in between', () => {
  const s = new ConsistentSampler();
  const c = new CpuBudgetController(s, { budgetCores: 0.2 });
  c.step(0.1); // under budget at level 0: nothing to relax
  assert.equal(c.level, 0);
  c.step(0.7); // 3.5× over: ceil(log2 3.5) = 2 steps at once
  assert.equal(c.level, 2);
  assert.equal(formatTh(s.threshold), 'c');
  assert.equal(s.source, 'cpu_budget');
  c.step(3.0); // 15× over: capped at 3 steps
  assert.equal(c.level, 5);
  c.step(0.18); // between 0.7×budget and budget: hold
  c.step(0.1); c.step(0.1);
  assert.equal(c.level, 5);
  c.step(0.1); // third calm interval in a row
  assert.equal(c.level, 4);
  c.step(0.1); c.step(0.19); c.step(0.1); c.step(0.1); // the hold in between restarts the count
  assert.equal(c.level, 4);
  c.step(0.1);
  assert.equal(c.level, 3);
  for (let i = 0; i < 100; i++) c.step(50);
  assert.equal(c.level, 10); // floor: 1/1024
  assert.equal(formatTh(s.threshold), 'ffc');
  assert.deepEqual(c.counters, { stepsDown: 5, stepsUp: 2, overBudgetIntervals: 102 });
});

test('CPU budget: reads the CPU time used over each interval', () => {
  let cpu = 0, now = 0;
  const s = new ConsistentSampler();
  const c = new CpuBudgetController(s, { budgetCores: 0.5, cpuMicros: () => cpu, nowMicros: () => now });
  cpu += 900_000; now += 1_000_000; // 0.9 cores over one second
  c.sample();
  assert.equal(c.lastCores, 0.9);
  assert.equal(c.level, 1);
});
