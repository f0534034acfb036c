// Kernel cost of the exec table (bpf/process-exec.bpf.c), measured with BPF stats (run_time_ns /
// run_cnt per program): `node dist/bench/kernel/process-exec-cost.js [--execs N] [--threads N]
// [--rounds N]`. Needs root. Workloads: a shell that forks and execs /bin/true N times (one exec,
// one fork of a process, one exit each), and a Python process that starts and joins N threads
// (the fork and exit programs' early return for threads). The exec workload's CPU time (the
// shell and its children, from /proc/<pid>/stat) without and with the programs, alternating
// rounds in this one run, medians side by side.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { enableBpfStats, type ProgramStats } from '../../agent/capture/native-bpf.js';
import { ExecTable } from '../../agent/process-exec/exec-table.js';

const arg = (name: string, def: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : def; };
const EXECS = arg('--execs', 2000);
const THREADS = arg('--threads', 5000);
const ROUNDS = arg('--rounds', 3);

/** Runs the command; returns the CPU ms it and its children used (the shell prints its own stat last). */
async function cpuMsOf(cmd: string, args: string[]): Promise<number> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  await once(child, 'close');
  clearTimeout(timer);
  const stat = out.trim().split('\n').pop()!;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // fields 14..17 (utime stime cutime cstime) are f[11..14] after the comm
  return (f[11]! + f[12]! + f[13]! + f[14]!) * 10; // clock ticks of 10 ms
}

const execs = () => cpuMsOf('/bin/sh', ['-c', `i=0; while [ $i -lt ${EXECS} ]; do /bin/true; i=$((i+1)); done; cat /proc/$$/stat`]);
const threads = () => cpuMsOf('/usr/bin/python3', ['-c',
  `import threading\nfor _ in range(${THREADS}):\n  t = threading.Thread(target=lambda: None); t.start(); t.join()\nprint(open('/proc/self/stat').read())`]);

const byName = (s: ProgramStats[]) => new Map(s.map((p) => [p.program, p]));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const stop = enableBpfStats();
  const totals = new Map<string, { ns: number; cnt: number }>(); // key: workload program
  const without: number[] = [];
  const withTable: number[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      without.push(await execs());
      const table = ExecTable.open();
      const add = (workload: string, before: Map<string, ProgramStats>) => {
        for (const p of table.programStats()) {
          const key = `${workload.padEnd(8)} ${p.program}`;
          const t = totals.get(key) ?? { ns: 0, cnt: 0 };
          t.ns += p.runTimeNs - (before.get(p.program)?.runTimeNs ?? 0);
          t.cnt += p.runCount - (before.get(p.program)?.runCount ?? 0);
          totals.set(key, t);
        }
      };
      let a = byName(table.programStats());
      withTable.push(await execs());
      add('execs', a);
      a = byName(table.programStats());
      await threads();
      add('threads', a);
      table.close();
    }
  } finally {
    stop();
  }
  console.log(`process-exec BPF cost: ${ROUNDS} rounds of ${EXECS} fork+exec+exit of /bin/true and ${THREADS} Python threads started and joined`);
  console.log('workload program          runs      ns/run   (other work on the machine runs them too and is included)');
  for (const [name, t] of totals) console.log(`${name.padEnd(24)} ${String(t.cnt).padStart(7)}  ${t.cnt ? (t.ns / t.cnt).toFixed(0).padStart(8) : '       -'}`);
  console.log(`${EXECS} execs, CPU time of the shell and its children (median of ${ROUNDS}): without ${median(without).toFixed(0)} ms, with ${median(withTable).toFixed(0)} ms`);
}

await main();
