// Keeps the agent process under its CPU budget by lowering the span sampling probability. Each
// interval it reads the process's own CPU time (process.cpuUsage: every thread, user + system) and
// moves the probability along fixed power-of-two steps (1, 1/2, 1/4, … 1/1024): down fast — as many
// steps at once as the overshoot needs (log2 of used/budget, at most 3) — and up slowly, one step
// after `calmIntervals` intervals in a row under `relaxBelow` × budget. Between that and the budget it
// holds (hysteresis), so it does not flap around the edge. Power-of-two probabilities give exact
// adjusted counts (2, 4, 8, …) and short `th` values (8, c, e, f, f8, …).
// Only span work is shed this way: capture, parsing and RED metrics are paid for every transaction.
import type { ConsistentSampler } from './consistent-sampler.js';
import { powerOfTwoThreshold } from './threshold.js';

export interface CpuBudgetOptions {
  /** Most CPU the agent process may use, in cores (0.2 = a fifth of one core). */
  budgetCores: number;
  intervalMs?: number;
  /** Lowest probability is 2^-maxLevel. */
  maxLevel?: number;
  /** Relax only while use stays below this share of the budget. */
  relaxBelow?: number;
  /** Intervals in a row below relaxBelow before one step up. */
  calmIntervals?: number;
  /** Most steps down in one interval. */
  maxStepDown?: number;
  /** CPU time used by this process so far, µs (tests give their own). */
  cpuMicros?: () => number;
  /** Monotonic time, µs. */
  nowMicros?: () => number;
}

export interface CpuBudgetCounters { stepsDown: number; stepsUp: number; overBudgetIntervals: number }

const processCpuMicros = () => { const u = process.cpuUsage(); return u.user + u.system; };
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

export class CpuBudgetController {
  /** Probability is 2^-level. */
  level = 0;
  /** CPU the process used over the last interval, in cores. */
  lastCores = 0;
  readonly counters: CpuBudgetCounters = { stepsDown: 0, stepsUp: 0, overBudgetIntervals: 0 };
  private calm = 0;
  private timer?: NodeJS.Timeout;
  private lastCpu: number;
  private lastAt: number;
  private readonly o: Required<Omit<CpuBudgetOptions, 'cpuMicros' | 'nowMicros'>>;
  private readonly cpu: () => number;
  private readonly now: () => number;

  constructor(private readonly sampler: ConsistentSampler, opts: CpuBudgetOptions) {
    this.o = { intervalMs: 1000, maxLevel: 10, relaxBelow: 0.7, calmIntervals: 3, maxStepDown: 3, ...opts };
    this.cpu = opts.cpuMicros ?? processCpuMicros;
    this.now = opts.nowMicros ?? monotonicMicros;
    this.lastCpu = this.cpu();
    this.lastAt = this.now();
    sampler.setThreshold(powerOfTwoThreshold(0), 'cpu_budget');
  }

  get budgetCores(): number { return this.o.budgetCores; }

  /** Starts measuring from now: start-up work (loading the programs) is not charged to the budget. */
  start(): void {
    this.lastCpu = this.cpu();
    this.lastAt = this.now();
    this.timer = setInterval(() => this.sample(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Reads the CPU used since the last call and steps. */
  sample(): void {
    const cpu = this.cpu();
    const at = this.now();
    const wall = at - this.lastAt;
    if (wall <= 0) return;
    this.step((cpu - this.lastCpu) / wall);
    this.lastCpu = cpu;
    this.lastAt = at;
  }

  /** One deterministic step from the CPU used over the last interval, in cores. */
  step(cores: number): void {
    this.lastCores = cores;
    const budget = this.o.budgetCores;
    let level = this.level;
    if (cores > budget) {
      this.counters.overBudgetIntervals++;
      this.calm = 0;
      level += Math.min(this.o.maxStepDown, Math.max(1, Math.ceil(Math.log2(cores / budget))));
    } else if (cores < budget * this.o.relaxBelow && level > 0) {
      if (++this.calm >= this.o.calmIntervals) { level--; this.calm = 0; }
    } else {
      this.calm = 0;
    }
    level = Math.min(this.o.maxLevel, Math.max(0, level));
    if (level > this.level) this.counters.stepsDown++;
    if (level < this.level) this.counters.stepsUp++;
    if (level !== this.level) {
      this.level = level;
      this.sampler.setThreshold(powerOfTwoThreshold(level), 'cpu_budget');
    }
  }
}
