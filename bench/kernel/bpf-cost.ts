// Kernel cost of sockeye's BPF programs, measured with BPF stats (run_time_ns / run_cnt), plus the
// userspace decode rate: `node dist/bench/kernel/bpf-cost.js [--dd-calls N] [--requests N]
// [--baseline OLD.bpf.o] [--rounds N] [--only dd,http1,…] [--no-filter-runs]` (A/B: alternating rounds with an older object, medians side by side).
// Needs root. Workloads, each run in a cgroup of its own (bench/kernel/bench-workloads.ts):
//   dd            non-socket read/write
//   http1         keep-alive HTTP/1.1 (node:http), per request both sides and per traced data syscall
//   grpc          unary gRPC-framed calls over one HTTP/2 connection (node:http2)
//   tcp-other     a TCP ping-pong that is no known protocol (after inference gave up)
//   udp-other     the same over UDP
// and again with a cgroup include filter on (the workloads' cgroup is marked; every other process on
// the machine is filtered out). Other processes on the machine run the programs too: see measure().
import type { CaptureEvent } from '../../agent/capture/capture-events.js';
import { EventDecoder } from '../../agent/capture/event-decoder.js';
import { EVENT_FIELDS as F, EVENT_HEADER_SIZE } from '../../agent/capture/event-layout.js';
import { KernelCapture, type KernelCaptureOptions } from '../../agent/capture/kernel-capture.js';
import { BpfObject, enableBpfStats, type ProgramStats } from '../../agent/capture/native-bpf.js';
import { fileURLToPath } from 'node:url';
import { BenchCgroup, PHASES, type Phase } from './bench-workloads.js';

const floorObject = fileURLToPath(new URL('../../../build/bench/stats-floor.bpf.o', import.meta.url));
const arg = (name: string, def: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : def; };
const DD_CALLS = arg('--dd-calls', 1_000_000);
const REQUESTS = arg('--requests', 5_000);
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : undefined;
const NO_FILTER_RUNS = process.argv.includes('--no-filter-runs');

const counterObject = fileURLToPath(new URL('../../../build/bench/workload-syscalls.bpf.o', import.meta.url));
const WINDOW_MS = 100;
const CLEAN_SHARE = 0.05;

/** The workload's own data-syscall count (bench/kernel/workload-syscalls.bpf.c). */
class WorkloadCounter {
  private readonly obj: BpfObject;
  constructor(cg: BenchCgroup) {
    this.obj = BpfObject.load(counterObject, { rodata: { workload_cgroup: cg.leafId } });
    this.obj.attachAll();
  }
  read(): number { return Number(this.obj.mapLookup('workload_calls', Buffer.alloc(4))!.readBigUInt64LE(0)); }
  close(): void { this.obj.close(); }
}

interface Sample { ns: number; enters: number; calls: number }
const dataProgram = (n: string) => /^sockeye_(floor_)?(enter|exit)_(read|write|readv|writev|sendto|recvfrom|sendmsg|recvmsg|sendmmsg|recvmmsg)$/.test(n);

function sample(stats: ProgramStats[], counter: WorkloadCounter): Sample {
  let ns = 0, enters = 0;
  for (const p of stats) {
    if (!dataProgram(p.program)) continue;
    ns += p.runTimeNs;
    if (!/_exit_/.test(p.program)) enters += p.runCount;
  }
  return { ns, enters, calls: counter.read() };
}

interface PhaseFigure { nsPerSyscall: number; nsPerUnit: number; syscalls: number; units: number; windows: number; clean: number }
type Figures = Record<string, PhaseFigure>;

/** Runs every phase with one object attached, sampling the programs' time and the workload's own
 * syscall count every WINDOW_MS. Windows where other processes made more than CLEAN_SHARE of the
 * traced syscalls are dropped; the figure is the pooled time per workload syscall of the clean ones
 * (all windows, if none is clean: then `clean` says 0 and the figure is an upper bound). */
async function measure(read: () => ProgramStats[], cg: BenchCgroup, phases: Phase[]): Promise<Figures> {
  const out: Figures = {};
  const counter = new WorkloadCounter(cg);
  try {
    for (const ph of phases) {
      const samples: Sample[] = [];
      const units = ph.units({ ddCalls: DD_CALLS, requests: REQUESTS });
      await ph.run(cg, { ddCalls: DD_CALLS, requests: REQUESTS }, {
        started: () => samples.push(sample(read(), counter)),
        tick: () => samples.push(sample(read(), counter)),
        windowMs: WINDOW_MS,
      });
      samples.push(sample(read(), counter));
      let ns = 0, calls = 0, clean = 0, allNs = 0;
      for (let i = 1; i < samples.length; i++) {
        const d = { ns: samples[i]!.ns - samples[i - 1]!.ns, enters: samples[i]!.enters - samples[i - 1]!.enters, calls: samples[i]!.calls - samples[i - 1]!.calls };
        allNs += d.ns;
        if (d.calls > 0 && (d.enters - d.calls) / d.enters <= CLEAN_SHARE) { ns += d.ns; calls += d.calls; clean++; }
      }
      const total = samples[samples.length - 1]!.calls - samples[0]!.calls;
      if (clean === 0) { ns = allNs; calls = total; }
      const perCall = ns / calls;
      out[ph.name] = { nsPerSyscall: perCall, nsPerUnit: perCall * total / units, syscalls: total, units, windows: samples.length - 1, clean };
    }
  } finally {
    counter.close();
  }
  return out;
}

async function withCapture<T>(opts: KernelCaptureOptions, fn: (c: KernelCapture) => Promise<T>): Promise<T> {
  const capture = KernelCapture.open(opts);
  const stop = enableBpfStats();
  try { return await fn(capture); } finally { stop(); capture.close(); }
}

async function floorFigures(cg: BenchCgroup): Promise<Figures> {
  const obj = BpfObject.load(floorObject);
  const stop = enableBpfStats();
  try {
    obj.attachAll();
    return await measure(() => obj.programStats(), cg, PHASES.filter((p) => !ONLY || ONLY.includes(p.name)));
  } finally { stop(); obj.close(); }
}

function median(runs: Figures[]): Figures {
  const out: Figures = {};
  for (const name of Object.keys(runs[0]!)) {
    const pick = (f: (p: PhaseFigure) => number) => { const v = runs.map((r) => f(r[name]!)).sort((a, b) => a - b); return v[Math.floor(v.length / 2)]!; };
    out[name] = { ...runs[0]![name]!, nsPerSyscall: pick((p) => p.nsPerSyscall), nsPerUnit: pick((p) => p.nsPerUnit), clean: pick((p) => p.clean), windows: pick((p) => p.windows) };
  }
  return out;
}

function decodeBench(): { eventsPerSec: number; nsPerEvent: number } {
  // 10k records shaped like HTTP request/response events with 200-byte payloads, on 100 connections.
  const recLen = EVENT_HEADER_SIZE + 200;
  const framed = 4 + ((recLen + 7) & ~7);
  const batch = Buffer.alloc(framed * 10_000);
  for (let i = 0; i < 10_000; i++) {
    const at = i * framed + 4;
    batch.writeUInt32LE(recLen, at - 4);
    batch.writeBigUInt64LE(BigInt(1 + (i % 100)), at + F.conn_id.offset);
    batch.writeBigUInt64LE(BigInt(Math.floor(i / 100) * 200), at + F.offset.offset);
    batch.writeUInt32LE(4242, at + F.pid.offset);
    batch.writeUInt32LE(4242, at + F.tid.offset);
    batch.writeUInt32LE(200, at + F.total_bytes.offset);
    batch.writeUInt32LE(200, at + F.captured.offset);
    batch.writeUInt16LE(40000 + (i % 100), at + F.local_port.offset);
    batch.writeUInt16LE(80, at + F.remote_port.offset);
    batch[at + F.kind.offset] = 1; batch[at + F.role.offset] = 1; batch[at + F.protocol.offset] = 1;
    batch[at + F.family.offset] = 4; batch[at + F.transport.offset] = 6; batch[at + F.direction.offset] = 1; batch[at + F.syscall.offset] = 2;
    batch.write('GET /bench HTTP/1.1\r\n', at + EVENT_HEADER_SIZE, 'latin1');
  }
  const d = new EventDecoder();
  const out: CaptureEvent[] = [];
  for (let i = 0; i < 50; i++) { out.length = 0; d.decodeBatch(batch, out); } // warm-up
  const rounds = 300;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) { out.length = 0; d.decodeBatch(batch, out); }
  const ns = Number(process.hrtime.bigint() - t0);
  return { eventsPerSec: (rounds * 10_000) / (ns / 1e9), nsPerEvent: ns / (rounds * 10_000) };
}

function row(label: string, value: string, goal = '', note = '') {
  console.log(`  ${label.padEnd(50)} ${value.padStart(16)}  ${goal.padEnd(16)} ${note}`);
}

async function main() {
  const baselineObject = process.argv.includes('--baseline') ? process.argv[process.argv.indexOf('--baseline') + 1] : undefined;
  const rounds = arg('--rounds', baselineObject ? 3 : 1);
  console.log(`sockeye BPF cost (kernel ${(await import('node:os')).release()}, ${DD_CALLS} non-socket read/write calls, ` +
    `${REQUESTS} requests per socket workload, ${rounds} round(s), median shown)`);
  const cg = BenchCgroup.create();
  try {
    const floor = await floorFigures(cg);
    const objects = baselineObject ? [baselineObject, undefined] : [undefined];
    const runs = new Map<string, Figures[]>();
    for (let r = 0; r < rounds; r++) {
      for (const objectPath of objects) {
        for (const filtered of [false, true]) {
          const opts: KernelCaptureOptions = { ...(objectPath ? { objectPath } : {}), ...(filtered ? { includeCgroupIds: [cg.id] } : {}) };
          const key = `${objectPath ?? 'current'}|${filtered}`;
          if (filtered && NO_FILTER_RUNS) continue;
          const phases = PHASES.filter((p) => !ONLY || ONLY.includes(p.name));
          const f = await withCapture(opts, (c) => measure(() => c.programStats(), cg, phases));
          runs.set(key, [...(runs.get(key) ?? []), f]);
        }
      }
    }
    const fig = (obj: string | undefined, filtered: boolean) => median(runs.get(`${obj ?? 'current'}|${filtered}`)!);
    const show = (p: PhaseFigure | undefined, q: PhaseFigure, pick: (x: PhaseFigure) => number) =>
      p ? `${pick(p).toFixed(0)} → ${pick(q).toFixed(0)} ns` : `${pick(q).toFixed(0)} ns`;
    if (baselineObject) console.log(`\nA/B: baseline ${baselineObject} → current object, alternating rounds in this run`);
    console.log(`\nfloor: empty programs on the same tracepoints, enter+exit, per workload syscall: ${Object.entries(floor).map(([k, v]) => `${k} ${v.nsPerSyscall.toFixed(0)} ns`).join(', ')}`);
    const fl = (phase: string) => floor[phase]?.nsPerSyscall ?? NaN;
    const goals: Record<string, [string, (x: PhaseFigure) => number, string]> = {
      dd: ['non-socket read/write (enter+exit)', (x) => x.nsPerSyscall, `≤ floor+30 = ${(fl('dd') + 30).toFixed(0)}`],
      'http1-syscall': ['HTTP/1.1 keep-alive: per traced data syscall', (x) => x.nsPerSyscall, `≤ 500 (floor ${fl('http1').toFixed(0)})`],
      http1: ['HTTP/1.1 keep-alive: per request, both sides', (x) => x.nsPerUnit, '≤ 2000'],
      'grpc-syscall': ['gRPC (HTTP/2) unary: per traced data syscall', (x) => x.nsPerSyscall, `≤ 500 (floor ${fl('grpc').toFixed(0)})`],
      grpc: ['gRPC (HTTP/2) unary: per call, both sides', (x) => x.nsPerUnit, ''],
      'tcp-other': ['TCP, no known protocol: per data syscall', (x) => x.nsPerSyscall, `≤ floor+100 = ${(fl('tcp-other') + 100).toFixed(0)}`],
      'udp-other': ['UDP, no known protocol: per data syscall', (x) => x.nsPerSyscall, `≤ floor+100 = ${(fl('udp-other') + 100).toFixed(0)}`],
    };
    for (const filtered of NO_FILTER_RUNS ? [false] : [false, true]) {
      const cur = fig(undefined, filtered);
      const base = baselineObject ? fig(baselineObject, filtered) : undefined;
      console.log(`\nkernel, ${filtered ? 'WITH a cgroup include filter' : 'no filters'} (bpf_stats, clean windows)     figure              goal             note`);
      for (const [key, [label, pick, goal]] of Object.entries(goals)) {
        const phase = key.replace('-syscall', '');
        const q = cur[phase];
        if (!q) continue;
        row(label, show(base?.[phase], q, pick), goal, `${q.syscalls.toFixed(0)} calls, ${q.clean}/${q.windows} clean windows`);
      }
    }
  } finally {
    cg.remove();
  }
  const dec = decodeBench();
  console.log('\nuserspace decode (EventDecoder.decodeBatch, 200-byte HTTP records, 100 connections)');
  row('events decoded per second (one core)', `${(dec.eventsPerSec / 1e6).toFixed(2)} M/s`, '', `${dec.nsPerEvent.toFixed(0)} ns per event`);
}

await main();
