// The CPU budget at saturation (docs/PERFORMANCE.md, "CPU budget at saturation"): wrk saturating
// nginx on loopback with the real agent exporting to a discarding OTLP sink, runs alternating
// (A B C A B C …) between no effective budget (64 cores: never samples), the default budget
// (0.1 × cores) and a tight one. Reports per run: nginx req/s, the agent's CPU in cores over the
// whole run and over its second half (once the controller has settled), the probability it ended
// at, spans exported / sampled out / dropped, and RED's server count against wrk's own count.
//   node dist/bench/overhead/cpu-budget-saturation.js [--rounds N] [--seconds S]
import { startAgentProcess, sumMetric } from './agent-process.js';
import { wrk } from './load-generators.js';
import { startOtlpSink } from './otlp-sink.js';
import { cpuSeconds, median } from './proc-stats.js';
import { startNginx } from './servers.js';

const arg = (name: string, def: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : def);
const ROUNDS = arg('--rounds', 2);
const SECONDS = arg('--seconds', 8);
const AGENT_PORT = 19474;
const NGINX_PORT = 18474;
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

interface Run { budget: string; rps: number; cores: number; settledCores: number; probability: number; exported: number; sampledOut: number; dropped: number; red: number; wrkRequests: number }

/** RED's count of nginx's server requests on /metrics. */
function redCount(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith('http_server_request_duration_seconds_count') && line.includes('"nginx"')) n += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  return n;
}

async function once(budget: string | undefined, url: string, sinkPort: number): Promise<Run> {
  const agent = await startAgentProcess({ listenPort: AGENT_PORT, otlpPort: sinkPort, extraArgs: budget ? ['--cpu-budget', budget] : [] });
  try {
    const t0 = Date.now(); const c0 = cpuSeconds(agent.pid);
    let half: { t: number; c: number } | undefined;
    const mid = setTimeout(() => { half = { t: Date.now(), c: cpuSeconds(agent.pid) }; }, SECONDS * 500);
    const load = await wrk(url, { connections: 50, threads: 2, seconds: SECONDS });
    const t1 = Date.now(); const c1 = cpuSeconds(agent.pid);
    clearTimeout(mid);
    const atEnd = await agent.metrics();
    await new Promise((r) => setTimeout(r, 1500)); // let RED and the span queue settle
    const text = await agent.metrics();
    const probability = Number(/^sockeye_sampling_probability (\S+)$/m.exec(atEnd)?.[1]);
    return {
      budget: budget ?? 'default', rps: load.requestsPerSecond, cores: (c1 - c0) / ((t1 - t0) / 1000),
      settledCores: half ? (c1 - half.c) / ((t1 - half.t) / 1000) : NaN, probability,
      exported: sumMetric(text, 'sockeye_spans_exported_total'), sampledOut: sumMetric(text, 'sockeye_spans_sampled_out_total'),
      dropped: sumMetric(text, 'sockeye_spans_dropped_total'), red: redCount(text), wrkRequests: load.requests,
    };
  } finally { await agent.stop(); }
}

async function main(): Promise<void> {
  const sink = await startOtlpSink();
  const nginx = await startNginx(NGINX_PORT);
  const budgets: Array<string | undefined> = ['64', undefined, '0.1'];
  const runs: Run[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const b of budgets) {
        const x = await once(b, nginx.url, sink.port);
        log(`round ${r + 1} budget ${x.budget}: ${x.rps.toFixed(0)} req/s, agent ${x.cores.toFixed(2)} cores (2nd half ${x.settledCores.toFixed(2)}), p=${x.probability}, exported ${x.exported}, sampled out ${x.sampledOut}, dropped ${x.dropped}, RED ${x.red} / wrk ${x.wrkRequests}`);
        runs.push(x);
      }
    }
  } finally { await nginx.stop(); await sink.close(); }
  const lines = ['| budget (cores) | nginx req/s | agent cores, whole run | agent cores, 2nd half | end probability | spans exported | sampled out | dropped (queue) | RED / wrk requests |', '|---|---|---|---|---|---|---|---|---|'];
  for (const b of budgets.map((x) => x ?? 'default')) {
    const rs = runs.filter((x) => x.budget === b);
    const m = (f: (x: Run) => number) => median(rs.map(f));
    lines.push(`| ${b} | ${m((x) => x.rps).toFixed(0)} | ${m((x) => x.cores).toFixed(2)} | ${m((x) => x.settledCores).toFixed(2)} | ${m((x) => x.probability)} | ${m((x) => x.exported).toFixed(0)} | ${m((x) => x.sampledOut).toFixed(0)} | ${m((x) => x.dropped).toFixed(0)} | ${m((x) => x.red / x.wrkRequests).toFixed(4)} |`);
  }
  process.stdout.write(`medians of ${ROUNDS} rounds, wrk -t2 -c50 -d${SECONDS}s against nginx, agent exporting OTLP/gRPC to a discarding sink\n${lines.join('\n')}\n`);
}

main().catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
