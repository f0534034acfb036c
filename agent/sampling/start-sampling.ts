// The agent's sampling as configured: a fixed probability (sampling.probability), or the CPU budget
// controller adapting it (sampling.cpu_budget), with their /metrics series.
import type { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { ConsistentSampler } from './consistent-sampler.js';
import { CpuBudgetController } from './cpu-budget.js';
import { registerBudgetTelemetry } from './sampling-telemetry.js';
import { probabilityToThreshold } from './threshold.js';

export interface SamplingConfig {
  cpuBudget: number;
  probability?: number;
  intervalMs: number;
}

export interface Sampling {
  sampler: ConsistentSampler;
  /** Absent when the probability is fixed by config; started by the agent once it is ready. */
  controller?: CpuBudgetController;
}

export function startSampling(cfg: SamplingConfig, telemetry: TelemetryRegistry): Sampling {
  const sampler = new ConsistentSampler();
  if (cfg.probability !== undefined) {
    sampler.setThreshold(probabilityToThreshold(cfg.probability), 'configured');
    return { sampler };
  }
  const controller = new CpuBudgetController(sampler, { budgetCores: cfg.cpuBudget, intervalMs: cfg.intervalMs });
  registerBudgetTelemetry(telemetry, controller);
  return { sampler, controller };
}
