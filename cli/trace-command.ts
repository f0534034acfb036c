// `sockeye trace`: tcpdump for L7. One line per captured event (time, pid/comm, role, protocol,
// tuple, syscall, byte count, first line of the payload). Which programs attached (and why not)
// goes to stderr first, so `--json` output on stdout stays machine-readable.
import type { CaptureEvent } from '../agent/capture/capture-events.js';
import type { KernelCapture as KernelCaptureType, KernelCaptureOptions } from '../agent/capture/kernel-capture.js';
import { type IntLimit, PAYLOAD_CAP, PID, limitProblem } from '../agent/capture/capture-limits.js';
import { createBootClock } from '../agent/signals/boot-clock.js';
import type { Command } from './main.js';
import { readFlags, type FlagProblem, type FlagSpec } from './flags.js';

const HELP = `usage: sockeye trace [--pid N]... [--payload-cap N] [--json] [--duration SECONDS]

Live view of the HTTP/1.x, HTTP/2 (gRPC) and DNS traffic of every process on this node, from the
kernel (needs root). One line per event; Ctrl-C to stop.

  --pid N            only this process (repeatable, or comma-separated)
  --payload-cap N    payload bytes copied per syscall, 1..16384 (default 4096)
  --json             one JSON object per line
  --duration S       stop after S seconds`;

export interface TraceArgs { pids: number[]; payloadCap?: number; json: boolean; durationS?: number }

/** Parses argv; throws an Error naming the bad flag and why. */
const TRACE_FLAGS: FlagSpec = {
  pid: { type: 'string' }, 'payload-cap': { type: 'string' }, json: { type: 'boolean' }, duration: { type: 'string' },
};

export function parseTraceArgs(args: string[]): TraceArgs {
  const out: TraceArgs = { pids: [], json: false };
  const problem: FlagProblem = (kind, f) => {
    throw new Error(kind === 'missing' ? `${f.raw}: missing value` : `unknown option '${f.arg}'`);
  };
  for (const { name, raw, value } of readFlags(args, TRACE_FLAGS, problem)) {
    // Capture values are checked against capture-limits.ts here, so the error names the flag.
    const int = (v: string, limit: IntLimit): number => {
      const n = Number(v);
      if (limitProblem(limit, n)) throw new Error(`${raw}: expected an integer ${limit.min}..${limit.max}, got '${v}'`);
      return n;
    };
    switch (name) {
      case 'pid': for (const p of value!.split(',')) out.pids.push(int(p, PID)); break;
      case 'payload-cap': out.payloadCap = int(value!, PAYLOAD_CAP); break;
      case 'json': out.json = true; break;
      case 'duration': out.durationS = int(value!, { min: 1, max: 86400 }); break;
    }
  }
  return out;
}

/** The payload's first line, printable: control and non-ASCII bytes become '.', at most 120 chars. */
export function printableFirstLine(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length && s.length < 120; i++) {
    const c = bytes[i]!;
    if (c === 0x0d || c === 0x0a) break;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
  }
  return s;
}

const endpoint = (addr: string, port: number) => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

export function formatEvent(e: CaptureEvent, wallMs: number, json: boolean): string {
  const t = e.tuple;
  const base = {
    time: new Date(wallMs).toISOString(), kind: e.kind, pid: e.process.pid, tid: e.process.tid, comm: e.process.comm,
    role: e.role, protocol: e.protocol, transport: t.transport, local: endpoint(t.localAddr, t.localPort),
    remote: endpoint(t.remoteAddr, t.remotePort), connId: e.connId, fd: e.fd,
  };
  if (json) {
    if (e.kind === 'data') {
      return JSON.stringify({ ...base, syscall: e.syscall, direction: e.direction, totalBytes: e.totalBytes,
        capturedBytes: e.bytes.length, offset: e.offset, firstLine: printableFirstLine(e.bytes) });
    }
    return JSON.stringify(e.kind === 'gap' ? { ...base, direction: e.direction, lostBytes: e.lostBytes } : base);
  }
  const time = base.time.slice(11, 23);
  const head = `${time} ${e.process.comm}/${e.process.pid} ${e.role.padEnd(7)} ${e.protocol.padEnd(7)} ${t.transport} ${base.local} ${e.kind === 'data' && e.direction === 'ingress' ? '<-' : '->'} ${base.remote}`;
  if (e.kind === 'data') return `${head} ${e.syscall} ${e.totalBytes}B "${printableFirstLine(e.bytes)}"`;
  if (e.kind === 'gap') return `${head} GAP ${e.direction} ${e.lostBytes}B lost`;
  return `${head} ${e.kind.toUpperCase()}`;
}

async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { console.log(HELP); return 0; }
  let opts: TraceArgs;
  try { opts = parseTraceArgs(args); } catch (err) { console.error(`sockeye trace: ${(err as Error).message}\n\n${HELP}`); return 2; }
  const { KernelCapture } = await import('../agent/capture/kernel-capture.js');
  const captureOptions: KernelCaptureOptions = { payloadCap: opts.payloadCap };
  if (opts.pids.length > 0) captureOptions.includePids = opts.pids;
  let capture: KernelCaptureType;
  try {
    capture = KernelCapture.open(captureOptions);
  } catch (err) {
    console.error(`sockeye trace: ${(err as Error).message}`);
    return 1;
  }
  const ok = capture.attachments.filter((a) => a.attached);
  const failed = capture.attachments.filter((a) => !a.attached);
  console.error(`sockeye trace: attached ${ok.length}/${capture.attachments.length} programs: ${ok.map((a) => a.program).join(' ')}`);
  for (const f of failed) console.error(`sockeye trace: NOT attached ${f.program} (${f.section}): ${f.error ?? 'unknown reason'}`);
  const clock = createBootClock();
  capture.onEvents((events) => {
    let out = '';
    for (const e of events) out += formatEvent(e, (clock.bootEpochNs + e.tsNs) / 1e6, opts.json) + '\n';
    process.stdout.write(out);
  });
  return new Promise<number>((resolve) => {
    let done = false;
    const stop = (why: string) => {
      if (done) return;
      done = true;
      capture.pollNow();
      const c = capture.counters();
      capture.close();
      console.error(`sockeye trace: ${why}; events ${c.events}, lost in kernel ${c.lostEvents}, gaps ${c.gaps ?? 0}, decode errors ${c.decodeErrors}`);
      resolve(0);
    };
    process.once('SIGINT', () => stop('interrupted'));
    process.once('SIGTERM', () => stop('terminated'));
    if (opts.durationS !== undefined) setTimeout(() => stop('duration reached'), opts.durationS * 1000).unref();
  });
}

export const command: Command = { summary: 'live view of captured L7 socket events (like tcpdump for HTTP/DNS/gRPC)', run };
