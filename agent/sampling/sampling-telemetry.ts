// Sampling on /metrics: the current probability and threshold, spans sampled out and why, and the
// CPU budget controller's view (CPU used, budget, steps). Also the one-line summary the live view shows.
import type { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import type { ConsistentSampler } from './consistent-sampler.js';
import type { CpuBudgetController } from './cpu-budget.js';
import { formatTh } from './threshold.js';

export function registerSamplerTelemetry(t: TelemetryRegistry, s: ConsistentSampler): void {
  t.register('sockeye_sampling_probability', "The agent's span sampling probability now (1: every span kept; spans of requests carrying a higher upstream ot=th keep that).", 'gauge',
    () => [{ value: s.probability }]);
  t.register('sockeye_sampling_threshold_info', "The agent's rejection threshold now, as the th value exported spans carry (ot=th:…), and where it comes from (cpu_budget or configured).", 'gauge',
    () => [{ labels: { th: formatTh(s.threshold), source: s.source }, value: 1 }]);
  t.register('sockeye_spans_sampled_out_total', 'Spans not exported (no NAT wait, queue, encoding or send) because their trace was sampled out, by reason: cpu_budget (the CPU budget controller lowered the probability), configured (sampling.probability), parent (the threshold the request carried in ot=th). RED metrics still count these transactions.', 'counter',
    () => Object.entries(s.sampledOut).map(([reason, value]) => ({ labels: { reason }, value })));
  t.register('sockeye_sampling_parent_threshold_erased_total', 'Incoming ot=th thresholds ignored because the sampled flag contradicted them (randomness below the threshold yet sampled).', 'counter',
    () => [{ value: s.inconsistentErased }]);
}

export function registerBudgetTelemetry(t: TelemetryRegistry, c: CpuBudgetController): void {
  t.register('sockeye_cpu_budget_cores', 'The most CPU the agent process may use (sampling.cpu_budget), in cores.', 'gauge', () => [{ value: c.budgetCores }]);
  t.register('sockeye_cpu_used_cores', 'CPU the agent process used over the last controller interval, in cores (all threads, user + system).', 'gauge', () => [{ value: c.lastCores }]);
  t.register('sockeye_cpu_budget_steps_total', 'Sampling probability steps taken by the CPU budget controller, by direction (down: less kept).', 'counter',
    () => [{ labels: { direction: 'down' }, value: c.counters.stepsDown }, { labels: { direction: 'up' }, value: c.counters.stepsUp }]);
  t.register('sockeye_cpu_over_budget_intervals_total', 'Controller intervals in which the agent used more CPU than its budget.', 'counter', () => [{ value: c.counters.overBudgetIntervals }]);
}

/** "sampling 25% (th:c, cpu_budget) — cpu 0.31/0.20 cores — 1234 spans sampled out" */
export function samplingSummary(s: ConsistentSampler, c?: CpuBudgetController): string {
  const pct = s.probability * 100;
  const p = pct >= 1 ? `${pct.toFixed(pct % 1 === 0 ? 0 : 1)}%` : `${pct.toPrecision(2)}%`;
  const cpu = c ? ` — cpu ${c.lastCores.toFixed(2)}/${c.budgetCores.toFixed(2)} cores` : '';
  return `sampling ${p} (th:${formatTh(s.threshold)}, ${s.source})${cpu} — ${s.sampledOutTotal} spans sampled out`;
}
