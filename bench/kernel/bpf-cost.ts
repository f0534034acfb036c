// Kernel cost of sockeye's BPF programs, measured with BPF stats (run_time_ns / run_cnt), plus the
// userspace decode rate: `node dist/bench/kernel/bpf-cost.js [--dd-calls N] [--requests N]
// [--baseline OLD.bpf.o] [--rounds N]` (A/B: alternating rounds with an older object, medians side by side).
// Needs root. Workloads, each run in a cgroup of its own (bench/kernel/bench-workloads.ts):
//   dd            non-socket read/write
//   http1         keep-alive HTTP/1.1 (node:http), per request both sides and per traced data syscall
//   grpc          unary gRPC-framed calls over one HTTP/2 connection (node:http2)
//   tcp-other     a TCP ping-pong that is no known protocol (after inference gave up)
//   udp-other     the same over UDP
// and again with a cgroup include filter on (the workloads' cgroup is marked; every other process on
// the machine is filtered out). Other processes on the machine run the programs too: the rate of the
// programs measured in an idle window just before each phase is subtracted (noted as `bg`).
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
const IDLE_MS = 500;

interface Snapshot { at: bigint; stats: ProgramStats[] }
const snap = (read: () => ProgramStats[]): Snapshot => ({ at: process.hrtime.bigint(), stats: read() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ns and entry-program runs between two snapshots over the programs `keep` selects. */
function delta(a: Snapshot, b: Snapshot, keep: (n: string) => boolean = () => true) {
  const before = new Map(a.stats.map((p) => [p.program, p]));
  let ns = 0, enters = 0, runs = 0;
  for (const p of b.stats) {
    if (!keep(p.program)) continue;
    const q = before.get(p.program);
    const d = p.runCount - (q?.runCount ?? 0);
    ns += p.runTimeNs - (q?.runTimeNs ?? 0);
    runs += d;
    if (!/_exit_/.test(p.program)) enters += d;
  }
  return { ns, enters, runs, ms: Number(b.at - a.at) / 1e6 };
}

const dataProgram = (n: string) => /^sockeye_(floor_)?(enter|exit)_(read|write|readv|writev|sendto|recvfrom|sendmsg|recvmsg|sendmmsg|recvmmsg)$/.test(n);

interface PhaseFigure { nsPerSyscall: number; nsPerUnit: number; syscalls: number; units: number; bgShare: number }
type Figures = Record<string, PhaseFigure>;

/** Runs every phase with one object attached; each phase is preceded by an idle window whose
 * program rate (background traffic) is subtracted from the phase. */
async function measure(read: () => ProgramStats[], cg: BenchCgroup, phases: Phase[]): Promise<Figures> {
  const out: Figures = {};
  for (const ph of phases) {
    const i0 = snap(read);
    await sleep(IDLE_MS);
    const i1 = snap(read);
    await ph.run(cg, { ddCalls: DD_CALLS, requests: REQUESTS });
    const p1 = snap(read);
    const idle = delta(i0, i1, dataProgram);
    const raw = delta(i1, p1, dataProgram);
    const scale = raw.ms / idle.ms;
    const ns = raw.ns - idle.ns * scale;
    const syscalls = raw.enters - idle.enters * scale;
    const units = ph.units({ ddCalls: DD_CALLS, requests: REQUESTS });
    out[ph.name] = {
      nsPerSyscall: ns / syscalls, nsPerUnit: ns / units, syscalls, units, bgShare: (idle.enters * scale) / raw.enters,
    };
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
    return await measure(() => obj.programStats(), cg, PHASES.filter((p) => p.name === 'dd'));
  } finally { stop(); obj.close(); }
}

function median(runs: Figures[]): Figures {
  const out: Figures = {};
  for (const name of Object.keys(runs[0]!)) {
    const pick = (f: (p: PhaseFigure) => number) => { const v = runs.map((r) => f(r[name]!)).sort((a, b) => a - b); return v[Math.floor(v.length / 2)]!; };
    out[name] = { ...runs[0]![name]!, nsPerSyscall: pick((p) => p.nsPerSyscall), nsPerUnit: pick((p) => p.nsPerUnit), bgShare: pick((p) => p.bgShare) };
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
    const floor = (await floorFigures(cg)).dd!.nsPerSyscall;
    const objects = baselineObject ? [baselineObject, undefined] : [undefined];
    const runs = new Map<string, Figures[]>();
    for (let r = 0; r < rounds; r++) {
      for (const objectPath of objects) {
        for (const filtered of [false, true]) {
          const opts: KernelCaptureOptions = { ...(objectPath ? { objectPath } : {}), ...(filtered ? { includeCgroupIds: [cg.id] } : {}) };
          const key = `${objectPath ?? 'current'}|${filtered}`;
          const f = await withCapture(opts, (c) => measure(() => c.programStats(), cg, PHASES));
          runs.set(key, [...(runs.get(key) ?? []), f]);
        }
      }
    }
    const fig = (obj: string | undefined, filtered: boolean) => median(runs.get(`${obj ?? 'current'}|${filtered}`)!);
    const show = (p: PhaseFigure | undefined, q: PhaseFigure, pick: (x: PhaseFigure) => number) =>
      p ? `${pick(p).toFixed(0)} → ${pick(q).toFixed(0)} ns` : `${pick(q).toFixed(0)} ns`;
    if (baselineObject) console.log(`\nA/B: baseline ${baselineObject} → current object, alternating rounds in this run`);
    console.log(`\nfloor: empty programs on read/write, enter+exit: ${floor.toFixed(0)} ns per call`);
    const goals: Record<string, [string, (x: PhaseFigure) => number, string]> = {
      dd: ['non-socket read/write (enter+exit)', (x) => x.nsPerSyscall, `≤ floor+30 = ${(floor + 30).toFixed(0)}`],
      'http1-syscall': ['HTTP/1.1 keep-alive: per traced data syscall', (x) => x.nsPerSyscall, '≤ 500'],
      http1: ['HTTP/1.1 keep-alive: per request, both sides', (x) => x.nsPerUnit, '≤ 2000'],
      'grpc-syscall': ['gRPC (HTTP/2) unary: per traced data syscall', (x) => x.nsPerSyscall, '≤ 500'],
      grpc: ['gRPC (HTTP/2) unary: per call, both sides', (x) => x.nsPerUnit, ''],
      'tcp-other': ['TCP, no known protocol: per data syscall', (x) => x.nsPerSyscall, `≤ floor+100 = ${(floor + 100).toFixed(0)}`],
      'udp-other': ['UDP, no known protocol: per data syscall', (x) => x.nsPerSyscall, `≤ floor+100 = ${(floor + 100).toFixed(0)}`],
    };
    for (const filtered of [false, true]) {
      const cur = fig(undefined, filtered);
      const base = baselineObject ? fig(baselineObject, filtered) : undefined;
      console.log(`\nkernel, ${filtered ? 'WITH a cgroup include filter' : 'no filters'} (bpf_stats, bg subtracted)     figure              goal             note`);
      for (const [key, [label, pick, goal]] of Object.entries(goals)) {
        const phase = key.replace('-syscall', '');
        const q = cur[phase];
        if (!q) continue;
        row(label, show(base?.[phase], q, pick), goal, `${q.syscalls.toFixed(0)} calls, bg ${(q.bgShare * 100).toFixed(0)}%`);
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
