// Typed face of the native libbpf addon (agent/native/, built to build/Release/sockeye_native.node).
// Generic BPF plumbing: load a CO-RE object with config globals, attach its programs, poll a ring
// buffer in batches, read/write maps, read per-program run stats. See docs/native-addon.md.
import { closeSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { FLUSH_INTERVAL_MS, limitProblem } from './capture-limits.js';

export interface AttachResult { program: string; section: string; attached: boolean; error?: string }
export interface ProgramStats {
  program: string;
  /** Kernel program id (as `bpftool prog show` lists it). */
  id: number;
  runTimeNs: number;
  runCount: number;
  /** Runs skipped because the program was already running on that CPU. */
  recursionMisses: number;
}
export interface ProgramInfo { name: string; section: string; loaded: boolean; attached: boolean }
export interface MapInfo {
  name: string;
  /** libbpf's name for the map type: 'ringbuf', 'hash', 'percpu_array', ... */
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  perCpu: boolean;
}
export interface RingBufferStats {
  records: number;
  batches: number;
  /** Batch bytes handed to JS, framing included. */
  bytes: number;
  /** Epoll wake-ups (readable callbacks). */
  wakeups: number;
  /** Flush-timer runs that found records (producers used BPF_RB_NO_WAKEUP). */
  timerDrains: number;
  consumeErrors: number;
}
export interface OpenOptions {
  /** Values for `const volatile` globals in .rodata, by name (number | bigint | boolean; a Buffer of
   * the exact size for non-integer globals). Unknown name → Error naming it. */
  rodata?: Record<string, number | bigint | boolean | Buffer>;
  /** Max-entries overrides by map name (a ring buffer's size in bytes: a power of two ≥ page size). */
  mapSizes?: Record<string, number>;
  /** Programs not to load/attach (autoload off), by program name. */
  skipPrograms?: string[];
}
export interface RingBufferOptions {
  /** Drain on a timer too (ms, 0 = off), because producers may submit with BPF_RB_NO_WAKEUP. Default 50. */
  flushIntervalMs?: number;
  /** Whether polling keeps the process alive until close(), like a listening server. Default true. */
  keepAlive?: boolean;
}

interface NativeBpfObject {
  load(path: string, options: OpenOptions): void;
  attachAll(): AttachResult[];
  attach(program: string): AttachResult;
  programs(): ProgramInfo[];
  programStats(): ProgramStats[];
  maps(): MapInfo[];
  mapUpdate(map: string, key: Buffer, value: Buffer): void;
  mapDelete(map: string, key: Buffer): boolean;
  mapLookup(map: string, key: Buffer): Buffer | undefined;
  mapLookupPerCpu(map: string, key: Buffer): Buffer[];
  startRingBuffer(map: string, onBatch: (batch: Buffer) => void, flushIntervalMs: number, keepAlive: boolean): void;
  pollNow(): number;
  ringBufferStats(): RingBufferStats | undefined;
  close(): void;
}
interface NativeAddon {
  BpfObject: new () => NativeBpfObject;
  enableStatsFd(): number;
  possibleCpus(): number;
  libbpfVersion(): string;
}

/** Where the addon is expected; SOCKEYE_NATIVE_ADDON overrides it (e.g. in a container image). */
export const nativeAddonPath: string = process.env.SOCKEYE_NATIVE_ADDON
  ?? fileURLToPath(new URL('../../../build/Release/sockeye_native.node', import.meta.url));

let addon: NativeAddon | undefined;

/** Loads the .node once; a missing or broken build gets an Error that says how to fix it. */
export function loadNativeAddon(): NativeAddon {
  if (addon) return addon;
  if (!existsSync(nativeAddonPath)) {
    throw new Error(`sockeye native addon is not built: ${nativeAddonPath} is missing. Run \`npm run setup\` ` +
      '(it installs libbpf-dev and builds the addon with node-gyp).');
  }
  try {
    addon = createRequire(import.meta.url)(nativeAddonPath) as NativeAddon;
  } catch (err) {
    throw new Error(`cannot load the sockeye native addon ${nativeAddonPath}: ${(err as Error).message}. ` +
      'Run `npm run setup` to rebuild it against this Node and the system libbpf.', { cause: err });
  }
  return addon;
}

export function isNativeAddonBuilt(): boolean {
  return existsSync(nativeAddonPath);
}

const OPEN_OPTION_KEYS = new Set(['rodata', 'mapSizes', 'skipPrograms']);

function validateOpenOptions(options: OpenOptions): void {
  for (const key of Object.keys(options)) {
    if (!OPEN_OPTION_KEYS.has(key)) {
      throw new TypeError(`OpenOptions.${key}: unknown option (expected one of ${[...OPEN_OPTION_KEYS].join(', ')})`);
    }
  }
  const { rodata, mapSizes, skipPrograms } = options;
  if (rodata !== undefined && (typeof rodata !== 'object' || rodata === null)) {
    throw new TypeError('OpenOptions.rodata: expected an object of name → value');
  }
  if (mapSizes !== undefined) {
    if (typeof mapSizes !== 'object' || mapSizes === null) throw new TypeError('OpenOptions.mapSizes: expected an object of map name → max entries');
    for (const [name, size] of Object.entries(mapSizes)) {
      if (!Number.isInteger(size) || size < 1 || size > 0xffffffff) {
        throw new RangeError(`OpenOptions.mapSizes.${name}: expected an integer 1..2^32-1, got ${String(size)}`);
      }
    }
  }
  if (skipPrograms !== undefined && (!Array.isArray(skipPrograms) || skipPrograms.some((p) => typeof p !== 'string'))) {
    throw new TypeError('OpenOptions.skipPrograms: expected an array of program names');
  }
}

/** Objects that poll a ring buffer stay reachable until close(), like a listening server. */
const pollingObjects = new Set<BpfObject>();

/** One loaded BPF object. Call close() when done (it also runs at process exit; nothing is pinned). */
export class BpfObject {
  private closed = false;

  private constructor(readonly path: string, private readonly native: NativeBpfObject) {}

  /** libbpf open + set rodata + resize maps + load. Throws an Error whose message carries libbpf's
   * reason and the verifier log tail. */
  static load(objectPath: string, options: OpenOptions = {}): BpfObject {
    validateOpenOptions(options);
    const native = new (loadNativeAddon().BpfObject)();
    native.load(objectPath, options);
    return new BpfObject(objectPath, native);
  }

  /** Attaches every loaded program; never throws for one program: reports each with the kernel's reason. */
  attachAll(): AttachResult[] { return this.native.attachAll(); }
  /** Attaches one program by name (already attached → attached: true). */
  attach(program: string): AttachResult { return this.native.attach(program); }
  programs(): ProgramInfo[] { return this.native.programs(); }
  maps(): MapInfo[] { return this.native.maps(); }
  mapUpdate(map: string, key: Buffer, value: Buffer): void { this.native.mapUpdate(map, key, value); }
  /** false when the key was not there. */
  mapDelete(map: string, key: Buffer): boolean { return this.native.mapDelete(map, key); }
  /** undefined when the key is not there. */
  mapLookup(map: string, key: Buffer): Buffer | undefined { return this.native.mapLookup(map, key); }
  /** For per-CPU maps: one value Buffer per possible CPU ([] when a per-CPU hash lacks the key). */
  mapLookupPerCpu(map: string, key: Buffer): Buffer[] { return this.native.mapLookupPerCpu(map, key); }

  /**
   * Polls the named BPF_MAP_TYPE_RINGBUF with a uv_poll on ring_buffer__epoll_fd() (no threads).
   * Each wake-up drains the ring and calls onBatch once per batch (≤ ~1 MiB) with ONE Buffer
   * holding the records, each [u32 LE length][record bytes][record padded to 8 bytes]; see
   * forEachRecord. The poll handle keeps the event loop alive until close() (unless keepAlive is
   * false), and the object stays alive while it polls even if unreferenced.
   */
  startRingBuffer(map: string, onBatch: (batch: Buffer) => void, options: RingBufferOptions = {}): void {
    const flush = options.flushIntervalMs ?? 50;
    const why = limitProblem(FLUSH_INTERVAL_MS, flush);
    if (why) throw new RangeError(`startRingBuffer: flushIntervalMs: ${why}`);
    this.native.startRingBuffer(map, onBatch, flush, options.keepAlive ?? true);
    pollingObjects.add(this);
  }

  /** Drains whatever is in the ring now (synchronously calls onBatch); returns records consumed. */
  pollNow(): number { return this.native.pollNow(); }
  /** Ring-buffer delivery counters; undefined before startRingBuffer or after close. */
  ringBufferStats(): RingBufferStats | undefined { return this.native.ringBufferStats(); }
  /** run_time_ns / run_cnt per loaded program (non-zero only while BPF stats are enabled). */
  programStats(): ProgramStats[] { return this.native.programStats(); }

  /** Stops polling, destroys links, closes the object. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    pollingObjects.delete(this);
    this.native.close();
  }

  get isClosed(): boolean { return this.closed; }
}

/** Calls fn with a view of each record of a ring-buffer batch, in order; returns the count. */
export function forEachRecord(batch: Buffer, fn: (record: Buffer) => void): number {
  let p = 0;
  let n = 0;
  while (p + 4 <= batch.length) {
    const len = batch.readUInt32LE(p);
    if (p + 4 + len > batch.length) throw new RangeError(`ring-buffer batch framing broken at byte ${p}`);
    fn(batch.subarray(p + 4, p + 4 + len));
    n++;
    p += 4 + ((len + 7) & ~7);
  }
  return n;
}

/** Sums a per-CPU u64 counter (mapLookupPerCpu result). */
export function sumPerCpuU64(values: Buffer[]): bigint {
  let sum = 0n;
  for (const v of values) sum += v.readBigUInt64LE(0);
  return sum;
}

export function possibleCpus(): number { return loadNativeAddon().possibleCpus(); }
export function libbpfVersion(): string { return loadNativeAddon().libbpfVersion(); }

const STATS_SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';

/**
 * Turns on per-program run-time stats (run_time_ns, run_cnt). Prefers BPF_ENABLE_STATS, which keeps
 * them on only while its fd is open (so a crash turns them off); falls back to the sysctl. The
 * returned function turns them off again (idempotent).
 */
export function enableBpfStats(): () => void {
  let fd: number;
  try {
    fd = loadNativeAddon().enableStatsFd();
  } catch (err) {
    let before: string;
    try {
      before = readFileSync(STATS_SYSCTL, 'utf8').trim();
      writeFileSync(STATS_SYSCTL, '1');
    } catch (sysctlErr) {
      throw new Error(`cannot enable BPF stats: ${(err as Error).message}; ${STATS_SYSCTL}: ${(sysctlErr as Error).message}`);
    }
    let restored = false;
    return () => {
      if (restored) return;
      restored = true;
      writeFileSync(STATS_SYSCTL, before);
    };
  }
  let open = true;
  return () => {
    if (!open) return;
    open = false;
    closeSync(fd);
  };
}
