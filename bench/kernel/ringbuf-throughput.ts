// Ring-buffer delivery through the native addon: `node dist/bench/kernel/ringbuf-throughput.js [--events N]`.
// A child process calls getppid() in a tight loop (bounded in count and time); the fixture program
// (test/fixtures/bpf/fixture-getppid.bpf.c) writes one 45-byte record per call into the ring, and
// this process consumes them through BpfObject.startRingBuffer. Modes run interleaved, --rounds
// times (default 3); the median round (by consumer CPU per event) of each mode is printed. Prints events/s delivered kernel → JS,
// this process's CPU (user+sys) per 100k events, batch sizes and losses, for several delivery
// modes side by side, with ratios measured in the same run. Needs root.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BpfObject, libbpfVersion, sumPerCpuU64 } from '../../agent/capture/native-bpf.js';

const fixture = fileURLToPath(new URL('../../../build/test-bpf/fixture-getppid.bpf.o', import.meta.url));
const argEvents = process.argv.indexOf('--events');
const EVENTS = argEvents > 0 ? Number(process.argv[argEvents + 1]) : 1_000_000;
const argRounds = process.argv.indexOf('--rounds');
const ROUNDS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 3;
const PRODUCER_TIME_LIMIT_MS = 30_000;
const RING_BYTES = 32 * 1024 * 1024; // room for ~0.6M records: the 50 ms timer mode must not lose any

interface Mode { name: string; noWakeup: boolean; flushIntervalMs: number; walkRecords: boolean }
const modes: Mode[] = [
  { name: 'kernel wake-ups, batch delivered', noWakeup: false, flushIntervalMs: 50, walkRecords: false },
  { name: 'BPF_RB_NO_WAKEUP + 50 ms timer, batch delivered', noWakeup: true, flushIntervalMs: 50, walkRecords: false },
  { name: 'BPF_RB_NO_WAKEUP + 50 ms timer, every record read in JS', noWakeup: true, flushIntervalMs: 50, walkRecords: true },
  { name: 'BPF_RB_NO_WAKEUP + 10 ms timer, every record read in JS', noWakeup: true, flushIntervalMs: 10, walkRecords: true },
];

interface Result {
  mode: Mode; delivered: number; lost: bigint; seconds: number; eventsPerSec: number;
  cpuUsPer100k: number; batches: number; wakeups: number; timerDrains: number; producerCallsPerSec: number;
}

// The producer waits for "go" so that the program can be loaded with its pid as the target.
const producerSource = `
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  const n = ${EVENTS}, deadline = Date.now() + ${PRODUCER_TIME_LIMIT_MS};
  const t0 = process.hrtime.bigint();
  let i = 0, sink = 0;
  while (i < n) { sink += process.ppid; i++; if ((i & 0xffff) === 0 && Date.now() > deadline) break; }
  const ns = Number(process.hrtime.bigint() - t0);
  process.stdout.write(JSON.stringify({ calls: i, ns, sink: sink > 0 }) + '\\n');
  process.exit(0);
});
`;

async function run(mode: Mode): Promise<Result> {
  const producer = spawn(process.execPath, ['-e', producerSource], { stdio: ['pipe', 'pipe', 'inherit'] });
  const obj = BpfObject.load(fixture, {
    rodata: { fixture_target_tgid: producer.pid!, fixture_no_wakeup: mode.noWakeup },
    mapSizes: { fixture_events: RING_BYTES },
    skipPrograms: ['sockeye_fixture_missing_tp'],
  });
  try {
    const attach = obj.attachAll();
    if (!attach.every((a) => a.attached)) throw new Error(`attach failed: ${JSON.stringify(attach)}`);
    let delivered = 0;
    let seqSum = 0;
    let lastAt = 0;
    obj.startRingBuffer('fixture_events', (batch) => {
      if (mode.walkRecords) {
        // What a decoder does: fixed offsets into the batch, no per-record Buffer.
        for (let p = 0; p + 4 <= batch.length; p += 4 + ((batch.readUInt32LE(p) + 7) & ~7)) {
          seqSum += batch.readUInt32LE(p + 4) + batch.readUInt32LE(p + 4 + 24); // seq (low half) + tgid
          delivered++;
        }
      } else {
        delivered += countRecords(batch);
      }
      lastAt = performance.now();
    }, { flushIntervalMs: mode.flushIntervalMs });

    let out = '';
    producer.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    while (!out.includes('ready\n')) await once(producer.stdout, 'data');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    producer.stdin.end('go\n');
    await once(producer, 'exit');
    const report = JSON.parse(out.slice(out.indexOf('ready\n') + 6)) as { calls: number; ns: number };
    const lost = () => sumPerCpuU64(obj.mapLookupPerCpu('fixture_hits', Buffer.from([1, 0, 0, 0]))); // [1]: reserve failures
    const deadline = Date.now() + 5000;
    while (BigInt(delivered) + lost() < BigInt(report.calls) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const cpu = process.cpuUsage(cpu0);
    const seconds = (lastAt - t0) / 1000;
    const stats = obj.ringBufferStats()!;
    if (seqSum < 0) throw new Error('unreachable');
    return {
      mode, delivered, lost: lost(), seconds, eventsPerSec: delivered / seconds,
      cpuUsPer100k: ((cpu.user + cpu.system) / delivered) * 100_000,
      batches: stats.batches, wakeups: stats.wakeups, timerDrains: stats.timerDrains,
      producerCallsPerSec: report.calls / (report.ns / 1e9),
    };
  } finally {
    obj.close();
    if (producer.exitCode === null) producer.kill('SIGKILL');
  }
}

function countRecords(batch: Buffer): number {
  let n = 0;
  for (let p = 0; p + 4 <= batch.length; p += 4 + ((batch.readUInt32LE(p) + 7) & ~7)) n++;
  return n;
}

if (process.getuid?.() !== 0) {
  console.error('ringbuf-throughput: needs root (loads BPF programs)');
  process.exit(2);
}
console.log(`ring buffer kernel → JS through the native addon — kernel ${release()}, libbpf ${libbpfVersion()}, node ${process.version}`);
console.log(`${EVENTS.toLocaleString('en')} getppid() calls per mode and round from a child process; 45-byte records; ring ${RING_BYTES >> 20} MiB; median of ${ROUNDS} interleaved rounds\n`);
const header = `${'mode'.padEnd(58)} ${'events/s'.padStart(11)} ${'CPU µs/100k'.padStart(12)} ${'batches'.padStart(8)} ${'rec/batch'.padStart(10)} ${'wakeups'.padStart(8)} ${'lost'.padStart(6)}`;
console.log(header);
const rounds: Result[][] = modes.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, mode] of modes.entries()) rounds[i]!.push(await run(mode));
}
const median = (rs: Result[]) => [...rs].sort((a, b) => a.cpuUsPer100k - b.cpuUsPer100k)[rs.length >> 1]!;
const results = rounds.map(median);
for (const r of results) {
  console.log(`${r.mode.name.padEnd(58)} ${Math.round(r.eventsPerSec).toLocaleString('en').padStart(11)} ${Math.round(r.cpuUsPer100k).toLocaleString('en').padStart(12)} ${String(r.batches).padStart(8)} ${Math.round(r.delivered / Math.max(1, r.batches)).toLocaleString('en').padStart(10)} ${String(r.wakeups).padStart(8)} ${String(r.lost).padStart(6)}`);
}
const [wake, timer, timerWalk] = results;
console.log(`\nproducer rate (getppid calls/s with the program attached): ${results.map((r) => Math.round(r.producerCallsPerSec).toLocaleString('en')).join(' / ')}`);
console.log('events/s is bounded by the producer; CPU per 100k events is the consumer (agent) cost.');
console.log(`consumer capacity (events per CPU-second of this process): ${results.map((r) => `${(1e11 / r.cpuUsPer100k / 1e6).toFixed(1)}M`).join(' / ')}`);
console.log('ratios, same run:');
console.log(`  CPU per event, kernel wake-ups ÷ NO_WAKEUP + timer:           ${(wake!.cpuUsPer100k / timer!.cpuUsPer100k).toFixed(2)}×`);
console.log(`  CPU per event, reading every record in JS ÷ batch only:       ${(timerWalk!.cpuUsPer100k / timer!.cpuUsPer100k).toFixed(2)}×`);
console.log(`  JS calls per event, batched ÷ one call per record:            ${(timer!.batches / timer!.delivered).toExponential(1)}`);
