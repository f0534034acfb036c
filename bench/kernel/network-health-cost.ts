// Kernel cost of the network-health programs (bpf/network-health.bpf.c), measured with BPF stats
// (run_time_ns / run_cnt per program): `node dist/bench/kernel/network-health-cost.js
// [--connections N] [--rounds N]`. Needs root. Workloads on loopback: N short TCP connections
// (connect, one exchange, close: set_state runs ~8 times per connection, both sides), N connects to
// a closed port (reset sent + received) and N UDP datagrams to a closed port (kfree_skb with a
// reason that is not ours: the early exit). Wall-clock time of the connection workload without and
// with the programs attached, alternating rounds in this one run, medians side by side.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { enableBpfStats, type ProgramStats } from '../../agent/capture/native-bpf.js';
import { NetworkHealthCapture } from '../../agent/network-health/network-health-capture.js';

const arg = (name: string, def: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : def; };
const N = arg('--connections', 3000);
const ROUNDS = arg('--rounds', 3);

const workload = (mode: 'connections' | 'refused' | 'udp') => `
const net = require('net'), dgram = require('dgram');
const N = ${N};
if ('${mode}' === 'udp') {
  const s = dgram.createSocket('udp4'); let i = 0;
  const go = () => { if (i++ >= N) return s.close(); s.send('x', 9, '127.0.0.1', go); }; go();
} else if ('${mode}' === 'refused') {
  let i = 0; const go = () => { if (i++ >= N) return; const c = net.connect(1, '127.0.0.1'); c.on('error', go); }; go();
} else {
  const srv = net.createServer((c) => { c.on('data', () => c.end('ok')); c.on('error', () => {}); });
  srv.listen(0, '127.0.0.1', () => {
    let i = 0;
    const go = () => { if (i++ >= N) return srv.close();
      const c = net.connect(srv.address().port, '127.0.0.1', () => c.write('hi')); c.on('data', () => {}); c.on('close', go); };
    go();
  });
}`;

async function run(mode: 'connections' | 'refused' | 'udp'): Promise<number> {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, ['-e', workload(mode)], { stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  await once(child, 'exit');
  clearTimeout(timer);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const byName = (s: ProgramStats[]) => new Map(s.map((p) => [p.program, p]));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const stop = enableBpfStats();
  const totals = new Map<string, { ns: number; cnt: number }>();
  const without: number[] = [];
  const withNh: number[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      without.push(await run('connections'));
      const cap = NetworkHealthCapture.open();
      cap.onEvents(() => undefined);
      const a = byName(cap.programStats());
      withNh.push(await run('connections'));
      await run('refused');
      await run('udp');
      cap.pollNow();
      for (const p of cap.programStats()) {
        const t = totals.get(p.program) ?? { ns: 0, cnt: 0 };
        t.ns += p.runTimeNs - (a.get(p.program)?.runTimeNs ?? 0);
        t.cnt += p.runCount - (a.get(p.program)?.runCount ?? 0);
        totals.set(p.program, t);
      }
      const c = cap.counters();
      if (c.lost) console.log(`round ${r + 1}: ${c.lost} records lost`);
      cap.close();
    }
  } finally {
    stop();
  }
  console.log(`network-health BPF cost: ${ROUNDS} rounds of ${N} loopback connections, ${N} refused connects, ${N} UDP datagrams to a closed port`);
  console.log('program                   runs      ns/run');
  for (const [name, t] of totals) console.log(`${name.padEnd(24)} ${String(t.cnt).padStart(7)}  ${t.cnt ? (t.ns / t.cnt).toFixed(0).padStart(8) : '       -'}`);
  console.log(`${N} connections, wall clock (median of ${ROUNDS}): without ${median(without).toFixed(0)} ms, with ${median(withNh).toFixed(0)} ms`);
}

await main();
