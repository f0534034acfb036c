#!/usr/bin/env node
// `npm run bench`: every benchmark in one bounded run (about 10 minutes on a 2-core machine).
// Each prints its own figures; their output is also kept in bench/results/<name>.txt, and the
// side-by-side overhead suite writes bench/results/overhead.{json,md} (docs/PERFORMANCE.md).
// `npm run bench -- --quick` runs a short version of everything (a smoke run, figures are rough).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const quick = process.argv.includes('--quick');
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const results = join(root, 'bench', 'results');
mkdirSync(results, { recursive: true });

// name, compiled script, arguments (full / quick), time limit in seconds
const benches = [
  ['kernel-bpf-cost', 'bench/kernel/bpf-cost.js', [], ['--requests', '2000'], 120],
  ['kernel-process-exec', 'bench/kernel/process-exec-cost.js', [], ['--execs', '500', '--threads', '1000', '--rounds', '1'], 120],
  ['kernel-ringbuf', 'bench/kernel/ringbuf-throughput.js', ['--events', '500000', '--rounds', '2'], ['--events', '100000', '--rounds', '1'], 120],
  ['protocols', 'bench/protocols/protocol-bench.js', [], [], 120],
  ['agent-red-metrics', 'bench/agent/red-metrics-aggregation.js', ['2000000'], ['200000'], 60],
  ['agent-userspace', 'bench/agent/agent-userspace-throughput.js', ['100000'], ['20000'], 300],
  ['otlp-trace-encoder', 'bench/otlp/trace-encoder-shared.js', ['2048', '9'], ['2048', '3'], 60],
  ['collector-pipeline', 'bench/collector/pipeline-throughput.js', ['--spans', '200000', '--rounds', '2'], ['--spans', '40000', '--rounds', '1'], 180],
  ['collector-k8s-cache', 'bench/collector/k8s-cache-rss.js', ['10000'], ['2000'], 120],
  ['overhead-suite', 'bench/overhead/run-overhead-suite.js', [], ['--quick'], 900],
  ['cpu-budget', 'bench/overhead/cpu-budget-saturation.js', ['--rounds', '2'], ['--rounds', '1', '--seconds', '4'], 300],
];

// A benchmark that overruns its limit is killed with everything it started (agent, servers, load
// generators share its process group), and bpf_stats goes back to what it was.
const BPF_STATS = '/proc/sys/kernel/bpf_stats_enabled';
const readStats = () => { try { return readFileSync(BPF_STATS, 'utf8').trim(); } catch { return undefined; } };
const statsBefore = readStats();

const summary = [];
for (const [name, script, full, short, limitS] of benches) {
  if (only.length && !only.includes(name)) continue;
  const args = quick ? short : full;
  process.stdout.write(`\n=== ${name}: node dist/${script} ${args.join(' ')}\n`);
  const t0 = Date.now();
  // setsid: the benchmark leads its own process group (setsid execs in place, so res.pid is the group).
  const res = spawnSync('setsid', [process.execPath, '--expose-gc', join(root, 'dist', script), ...args],
    { cwd: root, encoding: 'utf8', timeout: limitS * 1000, killSignal: 'SIGKILL', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.error && res.pid) {
    try { process.kill(-res.pid, 'SIGKILL'); } catch { /* the group is gone already */ }
    if (statsBefore !== undefined && readStats() !== statsBefore) { try { writeFileSync(BPF_STATS, statsBefore); } catch { /* not root */ } }
  }
  const seconds = (Date.now() - t0) / 1000;
  const out = `${res.stdout ?? ''}${res.stderr ? `\n--- stderr ---\n${res.stderr}` : ''}`;
  process.stdout.write(res.stdout ?? '');
  writeFileSync(join(results, `${name}.txt`), out);
  const status = res.error ? `failed: ${res.error.message}` : res.status === 0 ? 'ok' : `exit ${res.status}`;
  if (status !== 'ok') process.stdout.write(`${(res.stderr ?? '').slice(-3000)}\n${name}: ${status}\n`);
  summary.push({ name, status, seconds });
}
process.stdout.write('\n=== summary\n');
for (const s of summary) process.stdout.write(`${s.name.padEnd(22)} ${s.status.padEnd(12)} ${s.seconds.toFixed(0)} s\n`);
process.exit(summary.every((s) => s.status === 'ok') ? 0 : 1);
