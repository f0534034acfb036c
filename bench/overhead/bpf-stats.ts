// Kernel-side cost of the agent's BPF programs, read from outside with bpftool while
// kernel.bpf_stats_enabled=1 (run_time_ns and run_cnt per program).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export interface BpfTotals { runTimeNs: number; runCount: number; byProgram: Record<string, { runTimeNs: number; runCount: number }> }

export function readSockeyeBpfStats(): BpfTotals {
  const out = execFileSync('bpftool', ['prog', 'show', '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const progs = JSON.parse(out) as Array<{ name?: string; run_time_ns?: number; run_cnt?: number }>;
  const totals: BpfTotals = { runTimeNs: 0, runCount: 0, byProgram: {} };
  for (const p of progs) {
    if (!p.name?.startsWith('sockeye_')) continue;
    const t = (totals.byProgram[p.name] ??= { runTimeNs: 0, runCount: 0 });
    t.runTimeNs += p.run_time_ns ?? 0;
    t.runCount += p.run_cnt ?? 0;
    totals.runTimeNs += p.run_time_ns ?? 0;
    totals.runCount += p.run_cnt ?? 0;
  }
  return totals;
}

export function diffBpf(after: BpfTotals, before: BpfTotals): BpfTotals {
  const d: BpfTotals = { runTimeNs: after.runTimeNs - before.runTimeNs, runCount: after.runCount - before.runCount, byProgram: {} };
  for (const [name, a] of Object.entries(after.byProgram)) {
    const b = before.byProgram[name] ?? { runTimeNs: 0, runCount: 0 };
    d.byProgram[name] = { runTimeNs: a.runTimeNs - b.runTimeNs, runCount: a.runCount - b.runCount };
  }
  return d;
}

const SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';

/** Turns bpf run-time statistics on; the returned function restores the previous setting. */
export function enableBpfStatsSysctl(): () => void {
  const previous = readFileSync(SYSCTL, 'utf8').trim();
  writeFileSync(SYSCTL, '1');
  return () => writeFileSync(SYSCTL, previous);
}
