// The capture source the agent uses: loads bpf/sockeye.bpf.c's object through the native addon,
// applies filters and config, attaches every program (reporting each), and hands decoded events
// to listeners once per ring-buffer batch.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CaptureCounters, CaptureEvent } from './capture-events.js';
import { EventDecoder } from './event-decoder.js';
import { FILTER_EXCLUDE, FILTER_INCLUDE, KERNEL_COUNTERS } from './event-names.js';
import { DEFAULT_PAYLOAD_CAP, DEFAULT_RING_BYTES, MAX_PAYLOAD_CAP, MAX_RING_BYTES, MIN_RING_BYTES, isPowerOfTwo } from './capture-limits.js';
import { kernelProblem } from './startup-check.js';
import { type AttachResult, BpfObject, possibleCpus, sumPerCpuU64 } from './native-bpf.js';

export interface KernelCaptureOptions {
  /** Payload bytes copied per syscall (the true length is always reported). 1..16384, default 4096. */
  payloadCap?: number;
  /** Ring-buffer size in bytes: a power of two, 4096..1 GiB. Default 8 MiB. */
  ringBufferBytes?: number;
  /** Wake userspace once this many bytes wait in the ring (it also drains every flushIntervalMs). */
  wakeupBytes?: number;
  flushIntervalMs?: number;
  includePids?: number[];
  excludePids?: number[];
  includeCgroupIds?: bigint[];
  excludeCgroupIds?: bigint[];
  /** Never trace this process (its own export traffic). Default true. */
  excludeSelf?: boolean;
  /** Take the load-time fallbacks even where the fast paths load (tests of the fallback paths). */
  forceFallbacks?: boolean;
  objectPath?: string;
}

/** Without these the capture would miss the most common data path: open() fails if they do not attach. */
export const ESSENTIAL_PROGRAMS = [
  'sockeye_enter_read', 'sockeye_exit_read', 'sockeye_enter_write', 'sockeye_exit_write',
] as const;

export const defaultObjectPath: string = process.env.SOCKEYE_BPF_OBJECT
  ?? fileURLToPath(new URL('../../../build/bpf/sockeye.bpf.o', import.meta.url));

const OPTION_KEYS = new Set([
  'payloadCap', 'ringBufferBytes', 'wakeupBytes', 'flushIntervalMs', 'includePids', 'excludePids',
  'includeCgroupIds', 'excludeCgroupIds', 'excludeSelf', 'objectPath', 'forceFallbacks',
]);

function fail(key: string, why: string): never {
  throw new RangeError(`KernelCaptureOptions.${key}: ${why}`);
}

function intIn(key: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(key, `expected an integer ${min}..${max}, got ${String(v)}`);
  }
  return v;
}

function pidList(key: string, v: unknown): number[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(key, 'expected an array of process ids');
  return v.map((p, i) => intIn(`${key}[${i}]`, p, 1, 0x3fffffff));
}

function cgroupList(key: string, v: unknown): bigint[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(key, 'expected an array of cgroup ids (bigint)');
  return v.map((c, i) => (typeof c === 'bigint' && c > 0n && c < 1n << 64n ? c : fail(`${key}[${i}]`, `expected a positive 64-bit bigint, got ${String(c)}`)));
}

interface ResolvedOptions {
  payloadCap: number; ringBufferBytes: number; wakeupBytes: number; flushIntervalMs: number;
  includePids: number[]; excludePids: number[]; includeCgroupIds: bigint[]; excludeCgroupIds: bigint[];
  excludeSelf: boolean; objectPath: string; forceFallbacks: boolean;
}

/** Checks every option, naming the bad key and why; fills defaults. */
export function resolveCaptureOptions(o: KernelCaptureOptions = {}): ResolvedOptions {
  for (const k of Object.keys(o)) if (!OPTION_KEYS.has(k)) fail(k, `unknown option (known: ${[...OPTION_KEYS].join(', ')})`);
  const ring = o.ringBufferBytes === undefined ? DEFAULT_RING_BYTES : intIn('ringBufferBytes', o.ringBufferBytes, MIN_RING_BYTES, MAX_RING_BYTES);
  if (!isPowerOfTwo(ring)) fail('ringBufferBytes', `must be a power of two, got ${ring}`);
  if (o.excludeSelf !== undefined && typeof o.excludeSelf !== 'boolean') fail('excludeSelf', 'expected a boolean');
  if (o.objectPath !== undefined && typeof o.objectPath !== 'string') fail('objectPath', 'expected a file path');
  if (o.forceFallbacks !== undefined && typeof o.forceFallbacks !== 'boolean') fail('forceFallbacks', 'expected a boolean');
  return {
    payloadCap: o.payloadCap === undefined ? DEFAULT_PAYLOAD_CAP : intIn('payloadCap', o.payloadCap, 1, MAX_PAYLOAD_CAP),
    ringBufferBytes: ring,
    wakeupBytes: o.wakeupBytes === undefined ? Math.min(64 * 1024, ring / 4) : intIn('wakeupBytes', o.wakeupBytes, 0, ring),
    flushIntervalMs: o.flushIntervalMs === undefined ? 50 : intIn('flushIntervalMs', o.flushIntervalMs, 0, 60_000),
    includePids: pidList('includePids', o.includePids),
    excludePids: pidList('excludePids', o.excludePids),
    includeCgroupIds: cgroupList('includeCgroupIds', o.includeCgroupIds),
    excludeCgroupIds: cgroupList('excludeCgroupIds', o.excludeCgroupIds),
    excludeSelf: o.excludeSelf ?? true,
    objectPath: o.objectPath ?? defaultObjectPath,
    forceFallbacks: o.forceFallbacks ?? false,
  };
}

/** Loads the object with its fast paths; if the kernel's verifier refuses them, once more with the
 * fallbacks switched on (same logic, slower reads), and reports both refusals if that fails too. */
function loadWithFallbacks(o: ResolvedOptions): BpfObject {
  const load = (fallbacks: boolean) => BpfObject.load(o.objectPath, {
    rodata: {
      payload_cap: o.payloadCap,
      ring_wakeup_bytes: BigInt(o.wakeupBytes),
      self_pid: o.excludeSelf ? process.pid : 0,
      filter_pids_include: o.includePids.length > 0,
      filter_pids_exclude: o.excludePids.length > 0,
      filter_cgroups_include: o.includeCgroupIds.length > 0,
      filter_cgroups_exclude: o.excludeCgroupIds.length > 0,
      fd_slot_probe_read: fallbacks,
    },
    mapSizes: { events: o.ringBufferBytes, scratch: possibleCpus() },
  });
  if (o.forceFallbacks) return load(true);
  try {
    return load(false);
  } catch (fast) {
    try {
      return load(true);
    } catch (slow) {
      throw new Error(`${(fast as Error).message}; with the load-time fallbacks too: ${(slow as Error).message}`);
    }
  }
}

export class KernelCapture {
  private readonly listeners: Array<(events: CaptureEvent[]) => void> = [];
  private readonly decoder = new EventDecoder();
  private listenerErrors = 0;
  private closed = false;

  private constructor(private readonly obj: BpfObject, readonly attachments: AttachResult[], readonly options: ResolvedOptions) {}

  /** Loads and attaches; throws a clear Error when the essential programs cannot attach. */
  static open(options: KernelCaptureOptions = {}): KernelCapture {
    const o = resolveCaptureOptions(options);
    if (!existsSync(o.objectPath)) {
      throw new Error(`BPF object ${o.objectPath} is missing: run \`npm run setup\` (it builds bpf/sockeye.bpf.c)`);
    }
    const problem = kernelProblem();
    if (problem) throw new Error(`kernel capture cannot start: ${problem}`);
    const obj = loadWithFallbacks(o);
    try {
      const mark = (v: number) => Buffer.from([v]);
      const pidKey = (p: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(p); return b; };
      const cgKey = (c: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(c); return b; };
      for (const p of o.includePids) obj.mapUpdate('pid_filter', pidKey(p), mark(FILTER_INCLUDE));
      for (const p of o.excludePids) obj.mapUpdate('pid_filter', pidKey(p), mark(FILTER_EXCLUDE));
      for (const c of o.includeCgroupIds) obj.mapUpdate('cgroup_filter', cgKey(c), mark(FILTER_INCLUDE));
      for (const c of o.excludeCgroupIds) obj.mapUpdate('cgroup_filter', cgKey(c), mark(FILTER_EXCLUDE));
      const attachments = obj.attachAll();
      const missing = attachments.filter((a) => !a.attached && (ESSENTIAL_PROGRAMS as readonly string[]).includes(a.program));
      if (missing.length > 0) {
        throw new Error(`kernel capture: essential programs did not attach: ${missing.map((a) => `${a.program} (${a.section}): ${a.error ?? 'unknown reason'}`).join('; ')}`);
      }
      const capture = new KernelCapture(obj, attachments, o);
      obj.startRingBuffer('events', (batch) => capture.deliver(batch), { flushIntervalMs: o.flushIntervalMs });
      return capture;
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  /** Registers a listener, called once per ring-buffer batch. Event bytes are views into the
   * batch: copy them to keep them past the call. */
  onEvents(listener: (events: CaptureEvent[]) => void): void {
    this.listeners.push(listener);
  }

  /** Drains the ring now (tests, shutdown); returns the records consumed. */
  pollNow(): number {
    return this.closed ? 0 : this.obj.pollNow();
  }

  counters(): CaptureCounters {
    const d = this.decoder.counters();
    const out: CaptureCounters = { lostEvents: 0, events: d.events, decodeErrors: d.decodeErrors };
    if (!this.closed) {
      for (const [name, index] of KERNEL_COUNTERS) {
        const key = Buffer.alloc(4);
        key.writeUInt32LE(index);
        out[name] = Number(sumPerCpuU64(this.obj.mapLookupPerCpu('counters', key)));
      }
      const rb = this.obj.ringBufferStats();
      if (rb) { out.ringRecords = rb.records; out.ringBatches = rb.batches; out.ringWakeups = rb.wakeups; }
    }
    out.gaps = d.gaps;
    out.gapBytes = d.gapBytes;
    out.offsetRewinds = d.offsetRewinds;
    out.listenerErrors = this.listenerErrors;
    return out;
  }

  /** Per-program kernel run time (non-zero while BPF stats are enabled). */
  programStats() {
    return this.obj.programStats();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.obj.close();
  }

  private deliver(batch: Buffer): void {
    const events = this.decoder.decodeBatch(batch);
    if (events.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(events);
      } catch {
        this.listenerErrors++; // a faulty consumer must not stop the capture
      }
    }
  }
}
