// sampling.* through the schema kit: default scaled by cores, env SOCKEYE_AGENT_CPU_BUDGET, the
// --cpu-budget flag, millicores, and bad values named with their key and source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { ConfigError, configFromObject, loadAgentConfig } from '../../agent/config/agent-config.js';
import { parseAgentArgs } from '../../cli/agent-command.js';
import { renderLiveView } from '../../cli/live-view.js';
import { ConsistentSampler } from '../../agent/sampling/consistent-sampler.js';
import { CpuBudgetController } from '../../agent/sampling/cpu-budget.js';
import { samplingSummary } from '../../agent/sampling/sampling-telemetry.js';

test('cpu_budget: default 0.1 × cores; env, file and flag in that precedence; millicores', () => {
  assert.equal(loadAgentConfig({ env: {} }).sampling.cpuBudget, Math.round(100 * availableParallelism()) / 1000);
  assert.equal(loadAgentConfig({ env: {} }).sampling.probability, undefined);
  assert.equal(loadAgentConfig({ env: { SOCKEYE_AGENT_CPU_BUDGET: '250m' } }).sampling.cpuBudget, 0.25);
  const flag = parseAgentArgs(['--cpu-budget', '0.5']).overrides;
  assert.equal(loadAgentConfig({ env: { SOCKEYE_AGENT_CPU_BUDGET: '250m' }, overrides: flag }).sampling.cpuBudget, 0.5);
  assert.equal(configFromObject({ sampling: { cpu_budget: 1.5, probability: 0.125, interval_ms: 500 } }, 'f.yaml').sampling.probability, 0.125);
});

test('bad sampling values name the key and the source', () => {
  assert.throws(() => loadAgentConfig({ env: { SOCKEYE_AGENT_CPU_BUDGET: 'lots' } }),
    (e: unknown) => e instanceof ConfigError && /sampling\.cpu_budget/.test(e.message) && /SOCKEYE_AGENT_CPU_BUDGET/.test(e.message) && /millicores/.test(e.message));
  assert.throws(() => configFromObject({ sampling: { probability: 0 } }, 'f.yaml'), /sampling\.probability.*probability from 2\^-56 to 1/);
  assert.throws(() => configFromObject({ sampling: { probability: 1.5 } }, 'f.yaml'), /sampling\.probability/);
  assert.throws(() => configFromObject({ sampling: { cpu_budget: -1 } }, 'f.yaml'), /sampling\.cpu_budget/);
});

test('the live view shows the sampling line', () => {
  const s = new ConsistentSampler();
  const c = new CpuBudgetController(s, { budgetCores: 0.2 });
  c.step(0.7);
  const text = renderLiveView([], { uptimeS: 1, exportTarget: 'off', metricsUrl: 'x', counters: [], sampling: samplingSummary(s, c) });
  assert.match(text, /^sampling 25% \(th:c, cpu_budget\) — cpu 0\.70\/0\.20 cores — 0 spans sampled out$/m);
});
