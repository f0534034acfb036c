// The real agent (`sockeye agent`, its own process) under real load: wrk on loopback against a
// Node HTTP server, the agent exporting over OTLP/gRPC to a sink in this process. Measured from
// outside: transactions the agent turned into signals (its /metrics) per second of the agent's
// CPU (user+system, all threads, from /proc) = transactions/s per agent core; RSS at rest and peak.
// Run (root, after make): node dist/bench/agent/agent-live-throughput.js [seconds] [connections]
// AGENT_PROFILE=/tmp/agent.cpuprofile runs the agent under bench/profile/profile-agent (profiles
// after BPF load, for the length of the load); AGENT_NODE_ARGS passes node flags to the agent.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { startOtlpSink } from '../overhead/otlp-sink.js';
import { cpuSeconds, rssBytes } from '../overhead/proc-stats.js';

const root = new URL('../../../', import.meta.url).pathname;
const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 16);
const GOAL_TX_PER_CORE = 100_000;
const GOAL_RSS_MB = 75;

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const p = (s.address() as { port: number }).port;
  s.close();
  return p;
}

function vmHwmMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function metric(url: string, line: RegExp): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const l of text.split('\n')) if (line.test(l)) sum += Number(l.slice(l.lastIndexOf(' ') + 1));
  return sum;
}

async function main(): Promise<void> {
  const sink = await startOtlpSink();
  const serverPort = await freePort();
  const server = spawn(process.execPath, [`${root}dist/bench/overhead/node-http-server.js`, String(serverPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(server.stdout!, 'data');
  const listen = `127.0.0.1:${await freePort()}`;
  const dir = mkdtempSync('/tmp/sockeye-bench-agent-');
  writeFileSync(`${dir}/agent.yaml`, `listen: ${listen}\nexport:\n  endpoint: http://127.0.0.1:${sink.port}\n  metric_interval_ms: 5000\n${process.env.AGENT_EXPORT_YAML ?? ''}live_view: off\n`);
  const agent: ChildProcess = spawn(process.execPath, [...(process.env.AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ...(process.env.AGENT_PROFILE ? [`${root}dist/bench/profile/profile-agent.js`, process.env.AGENT_PROFILE, String(seconds + 4), '--'] : [`${root}bin/sockeye.js`, 'agent']),
    '--config', `${dir}/agent.yaml`, '--listen', listen], { stdio: ['ignore', 'ignore', 'inherit'] });
  const metricsUrl = `http://${listen}/metrics`;
  try {
    for (let i = 0; ; i++) {
      if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode} before it was ready`);
      try { if ((await fetch(`http://${listen}/readyz`)).status === 200) break; } catch { /* starting */ }
      if (i > 300) throw new Error('agent not ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 3000));
    const restMb = rssBytes(agent.pid!) / 2 ** 20;
    const tx0 = await metric(metricsUrl, /^sockeye_transactions_total\{protocol="http1"\}/);
    const cpu0 = cpuSeconds(agent.pid!);
    const t0 = Date.now();
    const wrk = spawn('wrk', ['-t', '2', '-c', String(connections), '-d', `${seconds}s`, `http://127.0.0.1:${serverPort}/api/items/42`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let wrkOut = '';
    wrk.stdout!.on('data', (d: Buffer) => { wrkOut += d; });
    await once(wrk, 'exit');
    await new Promise((r) => setTimeout(r, 2000)); // let the agent drain what the ring buffer holds
    const wall = (Date.now() - t0) / 1000;
    const cpu = cpuSeconds(agent.pid!) - cpu0;
    const tx = (await metric(metricsUrl, /^sockeye_transactions_total\{protocol="http1"\}/)) - tx0;
    const reqs = Number(/(\d+) requests in/.exec(wrkOut)?.[1] ?? NaN);
    const lost = await metric(metricsUrl, /^sockeye_capture\{counter="lostEvents"\}/);
    const dropped = await metric(metricsUrl, /^sockeye_spans_dropped_total/);
    const droppedFull = await metric(metricsUrl, /^sockeye_spans_dropped_total\{reason="queue_full"\}/);
    const exported = await metric(metricsUrl, /^sockeye_spans_exported_total/);
    const peakMb = vmHwmMb(agent.pid!);
    console.log(`agent under wrk load: ${seconds} s, ${connections} keep-alive connections, Node server on loopback, export to an OTLP/gRPC sink`);
    console.log(`  wrk requests                 ${reqs.toLocaleString('en-US')} (${Math.round(reqs / seconds).toLocaleString('en-US')}/s)`);
    console.log(`  agent transactions           ${tx.toLocaleString("en-US")}  (both ends are traced: wrk client + Node server = 2 per request; ${((tx / reqs / 2) * 100).toFixed(1)}% of 2 × requests, incl. any other traffic on the node)`);
    console.log(`  agent CPU                    ${cpu.toFixed(2)} s over ${wall.toFixed(1)} s wall (${((cpu / wall) * 100).toFixed(0)}% of one core)`);
    const perCore = tx / cpu;
    console.log(`  transactions per agent core  ${Math.round(perCore).toLocaleString('en-US')} tx/s  (${(perCore / GOAL_TX_PER_CORE).toFixed(2)}× the 100k goal; DeepFlow 90k → ${(perCore / 90_000).toFixed(2)}×)`);
    console.log(`  spans exported ${exported}, dropped ${dropped} (queue full ${droppedFull}, export failed ${dropped - droppedFull}), kernel events lost ${lost}`);
    console.log(`  RSS at rest ${restMb.toFixed(0)} MB, peak ${peakMb.toFixed(0)} MB (goal ≤ ${GOAL_RSS_MB} MB: ${(restMb / GOAL_RSS_MB).toFixed(2)}× / ${(peakMb / GOAL_RSS_MB).toFixed(2)}×)`);
  } finally {
    agent.kill('SIGTERM');
    await once(agent, 'exit');
    server.kill('SIGTERM');
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
