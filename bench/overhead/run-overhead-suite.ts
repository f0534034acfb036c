// The overhead and capacity suite (docs/PERFORMANCE.md): each scenario alternates untraced and
// traced runs (A B A B …) of real servers under real load generators on loopback, and reports
// medians and ratios. The traced side runs the real `sockeye agent` process exporting OTLP/gRPC
// to a discarding sink. Bounded: about 6–8 minutes on a 2-core machine; `--quick` for a smoke run.
//   node dist/bench/overhead/run-overhead-suite.js [--quick] [--out DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { alternate, medianOf } from './ab-runner.js';
import { startAgentProcess, sumMetric, type AgentProcess } from './agent-process.js';
import { diffBpf, enableBpfStatsSysctl, readSockeyeBpfStats } from './bpf-stats.js';
import { heyFixedRate, wrk, type LoadResult } from './load-generators.js';
import { startOtlpSink } from './otlp-sink.js';
import { runPeer } from './peers.js';
import { cpuSeconds, median, rssBytes } from './proc-stats.js';
import { startNginx, startNodeHttpServer, type RunningServer } from './servers.js';

const quick = process.argv.includes('--quick');
const outDir = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1]! : 'bench/results';
const ROUNDS = quick ? 1 : 3;
const LOAD_SECONDS = quick ? 2 : 4;
const AGENT_PORT = 19464;

interface Row { scenario: string; metric: string; untraced?: number; traced?: number; ratio?: number; goal?: string; unit: string; note?: string }
const rows: Row[] = [];
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

let sinkPort = 0;
async function withAgent<T>(fn: (agent: AgentProcess) => Promise<T>): Promise<T> {
  const agent = await startAgentProcess({ listenPort: AGENT_PORT, otlpPort: sinkPort });
  try { return await fn(agent); } finally { await agent.stop(); }
}

interface TracedSample { load: LoadResult; agentCpuS: number; bpfNs: number; spans: number; peakRss: number }
async function loadRun(traced: boolean, run: () => Promise<LoadResult>): Promise<TracedSample> {
  if (!traced) return { load: await run(), agentCpuS: 0, bpfNs: 0, spans: 0, peakRss: 0 };
  return withAgent(async (agent) => {
    let peakRss = rssBytes(agent.pid);
    const sampler = setInterval(() => { try { peakRss = Math.max(peakRss, rssBytes(agent.pid)); } catch { /* exited */ } }, 200);
    const cpu0 = cpuSeconds(agent.pid);
    const spans0 = sumMetric(await agent.metrics(), 'sockeye_spans_total');
    const bpf0 = readSockeyeBpfStats();
    const load = await run();
    const bpf1 = readSockeyeBpfStats();
    await new Promise((r) => setTimeout(r, 600)); // let the last batches drain before reading
    const spans = sumMetric(await agent.metrics(), 'sockeye_spans_total') - spans0;
    const agentCpuS = cpuSeconds(agent.pid) - cpu0;
    clearInterval(sampler);
    return { load, agentCpuS, bpfNs: diffBpf(bpf1, bpf0).runTimeNs, spans, peakRss };
  });
}

function ratioRow(scenario: string, metric: string, unit: string, ab: { untraced: number[]; traced: number[] }, goal?: string, note?: string): void {
  const u = median(ab.untraced);
  const t = median(ab.traced);
  rows.push({ scenario, metric, untraced: u, traced: t, ratio: t / u, unit, goal, note });
}

async function throughput(server: RunningServer, closeEachRequest: boolean): Promise<number> {
  const label = `${server.name} ${closeEachRequest ? 'connection-per-request' : 'keep-alive'}`;
  log(`saturation: ${label}`);
  const ab = await alternate(ROUNDS, (traced) =>
    loadRun(traced, () => wrk(server.url, { connections: closeEachRequest ? 16 : 64, threads: 1, seconds: LOAD_SECONDS, closeEachRequest })));
  ratioRow(`1 saturation ${label}`, 'requests/s', 'req/s', { untraced: ab.untraced.map((s) => s.load.requestsPerSecond), traced: ab.traced.map((s) => s.load.requestsPerSecond) }, '≥0.97');
  // Server spans per request: each HTTP request seen by the server side is one SERVER span;
  // wrk's client side is traced too (CLIENT span), so a fully seen request yields 2 spans.
  const t = ab.traced;
  const txPerCore = medianOf(t, (s) => s.load.requests / Math.max(s.agentCpuS, 1e-9));
  rows.push({ scenario: `3 agent cost ${label}`, metric: 'requests per agent CPU-second', traced: txPerCore, unit: 'req/core-s', goal: '≥100000' });
  rows.push({ scenario: `3 agent cost ${label}`, metric: 'agent CPU per request', traced: medianOf(t, (s) => (s.agentCpuS / s.load.requests) * 1e6), unit: 'µs', note: 'Coroot ≈20 µs' });
  rows.push({ scenario: `3 agent cost ${label}`, metric: 'BPF time per request (all programs)', traced: medianOf(t, (s) => s.bpfNs / s.load.requests), unit: 'ns', goal: '≤500' });
  rows.push({ scenario: `3 agent cost ${label}`, metric: 'spans per request', traced: medianOf(t, (s) => s.spans / s.load.requests), unit: 'spans', note: '2 = client and server both seen' });
  rows.push({ scenario: `4 agent memory ${label}`, metric: 'agent peak RSS under load', traced: medianOf(t, (s) => s.peakRss / 2 ** 20), unit: 'MiB', goal: '≤75' });
  return median(ab.untraced.map((s) => s.load.requestsPerSecond));
}

async function latency(server: RunningServer, rate: number): Promise<void> {
  log(`fixed-rate latency: ${server.name} at ${Math.round(rate)} req/s`);
  const ab = await alternate(ROUNDS, (traced) => loadRun(traced, () => heyFixedRate(server.url, { rate, workers: 16, seconds: LOAD_SECONDS })));
  ratioRow(`2 latency ${server.name} @${Math.round(rate)}/s`, 'p50', 'ms', { untraced: ab.untraced.map((s) => s.load.p50Ms), traced: ab.traced.map((s) => s.load.p50Ms) });
  ratioRow(`2 latency ${server.name} @${Math.round(rate)}/s`, 'p99', 'ms', { untraced: ab.untraced.map((s) => s.load.p99Ms), traced: ab.traced.map((s) => s.load.p99Ms) }, '≤1.05');
}

async function idleConnectionsRss(server: RunningServer): Promise<void> {
  log('agent RSS: at rest and with 10k idle keep-alive connections');
  await withAgent(async (agent) => {
    await new Promise((r) => setTimeout(r, 2000));
    rows.push({ scenario: '4 agent memory', metric: 'agent RSS at rest', traced: rssBytes(agent.pid) / 2 ** 20, unit: 'MiB', goal: '≤75' });
    const port = Number(new URL(server.url).port);
    const holder = runPeer('idle-connections.js', [String(port), quick ? '1000' : '10000', '4000'], 120_000);
    const pid = await holder.pid;
    let peak = 0;
    const sampler = setInterval(() => { try { peak = Math.max(peak, rssBytes(agent.pid)); } catch { /* gone */ } }, 100);
    await holder.done;
    clearInterval(sampler);
    rows.push({ scenario: '4 agent memory', metric: `agent peak RSS with ${quick ? '1k' : '10k'} idle keep-alive connections`, traced: peak / 2 ** 20, unit: 'MiB', goal: '≤75', note: `holder pid ${pid}` });
  });
}

function ddSeconds(count: number): number {
  const t0 = process.hrtime.bigint();
  execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${count}`], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function fileIoTax(): Promise<void> {
  const count = quick ? 200_000 : 1_000_000;
  log(`non-socket I/O tax: dd with ${count} one-byte reads and writes`);
  const ab = await alternate(ROUNDS, async (traced) => {
    if (!traced) return { s: ddSeconds(count), bpf: 0, runs: 0 };
    return withAgent(async () => {
      const b0 = readSockeyeBpfStats();
      const s = ddSeconds(count);
      const d = diffBpf(readSockeyeBpfStats(), b0);
      const rw = Object.entries(d.byProgram).filter(([n]) => /read|write/.test(n));
      return { s, bpf: rw.reduce((a, [, v]) => a + v.runTimeNs, 0), runs: rw.reduce((a, [, v]) => a + v.runCount, 0) };
    });
  });
  const syscalls = 2 * count;
  const u = median(ab.untraced.map((x) => x.s));
  const t = median(ab.traced.map((x) => x.s));
  rows.push({ scenario: '5 non-socket I/O tax', metric: 'wall time added per read/write syscall', untraced: (u / syscalls) * 1e9, traced: (t / syscalls) * 1e9, ratio: t / u, unit: 'ns', goal: 'Δ ≤150' });
  // Per syscall: each read/write fires an enter and an exit program, so BPF ns per syscall = total / syscalls.
  rows.push({ scenario: '5 non-socket I/O tax', metric: 'BPF time per read/write syscall (bpf_stats)', traced: median(ab.traced.map((x) => x.bpf / (x.runs / 2 || 1))), unit: 'ns', goal: '≤150' });
}

async function peerScenario(name: string, script: string, count: number, unitName: string): Promise<void> {
  log(`${name}: ${count} ${unitName}`);
  const ab = await alternate(ROUNDS, async (traced) => {
    const go = async () => {
      const p = runPeer(script, [String(count), '16'], 120_000);
      const r = JSON.parse(await p.done) as { seconds: number };
      return r.seconds;
    };
    if (!traced) return { rate: count / (await go()), cpu: 0, spans: 0 };
    return withAgent(async (agent) => {
      const cpu0 = cpuSeconds(agent.pid);
      const spans0 = sumMetric(await agent.metrics(), 'sockeye_spans_total');
      const s = await go();
      await new Promise((r) => setTimeout(r, 600));
      return { rate: count / s, cpu: cpuSeconds(agent.pid) - cpu0, spans: sumMetric(await agent.metrics(), 'sockeye_spans_total') - spans0 };
    });
  });
  ratioRow(`6 ${name}`, `${unitName}/s`, `${unitName}/s`, { untraced: ab.untraced.map((x) => x.rate), traced: ab.traced.map((x) => x.rate) }, '≥0.97');
  rows.push({ scenario: `6 ${name}`, metric: `${unitName} per agent CPU-second`, traced: medianOf(ab.traced, (x) => count / Math.max(x.cpu, 1e-9)), unit: `${unitName}/core-s` });
  rows.push({ scenario: `6 ${name}`, metric: `spans per ${unitName}`, traced: medianOf(ab.traced, (x) => x.spans / count), unit: 'spans' });
}

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(3);
}

export function markdownTable(rs: Row[]): string {
  const head = '| scenario | metric | untraced | traced | ratio | goal | unit | note |\n|---|---|---:|---:|---:|---|---|---|';
  return [head, ...rs.map((r) => `| ${r.scenario} | ${r.metric} | ${fmt(r.untraced)} | ${fmt(r.traced)} | ${r.ratio === undefined ? '' : r.ratio.toFixed(3)} | ${r.goal ?? ''} | ${r.unit} | ${r.note ?? ''} |`)].join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const restoreStats = enableBpfStatsSysctl();
  const sink = await startOtlpSink();
  sinkPort = sink.port;
  const servers: RunningServer[] = [];
  try {
    const nodeServer = await startNodeHttpServer(18181);
    servers.push(nodeServer);
    const nginx = await startNginx(18182);
    servers.push(nginx);
    const nodeKeepAlive = await throughput(nodeServer, false);
    await throughput(nodeServer, true);
    await throughput(nginx, false);
    await throughput(nginx, true);
    await latency(nodeServer, nodeKeepAlive / 2);
    await idleConnectionsRss(nodeServer);
    await fileIoTax();
    await peerScenario('gRPC unary (@grpc/grpc-js)', 'grpc-peer.js', quick ? 5000 : 30000, 'calls');
    await peerScenario('DNS over UDP (node:dgram)', 'dns-peer.js', quick ? 5000 : 30000, 'queries');
  } finally {
    for (const s of servers) await s.stop();
    await sink.close();
    restoreStats();
  }
  const result = { date: new Date().toISOString(), quick, rounds: ROUNDS, loadSeconds: LOAD_SECONDS, seconds: (Date.now() - started) / 1000, rows };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'overhead.json'), JSON.stringify(result, null, 2));
  const md = markdownTable(rows);
  writeFileSync(join(outDir, 'overhead.md'), `${md}\n`);
  process.stdout.write(`${md}\n\nsuite took ${result.seconds.toFixed(0)} s; results in ${outDir}/overhead.{json,md}\n`);
}

await main();
