// Shared by the real-kernel capture tests: one KernelCapture per test file, events collected with
// their bytes copied, and child-process peers (servers/clients) whose pids the tests filter by —
// the test process itself is excluded from capture, as the agent excludes itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { CaptureEvent, DataEvent } from '../../../agent/capture/capture-events.js';
import { KernelCapture, type KernelCaptureOptions } from '../../../agent/capture/kernel-capture.js';

export const peerPath = (name: string) => fileURLToPath(new URL(`./peers/${name}.js`, import.meta.url));

export class Recorder {
  readonly events: CaptureEvent[] = [];
  constructor(readonly capture: KernelCapture) {
    capture.onEvents((evs) => {
      for (const e of evs) this.events.push(e.kind === 'data' ? { ...e, bytes: Buffer.from(e.bytes) } : e);
    });
  }
  static open(options?: KernelCaptureOptions): Recorder {
    return new Recorder(KernelCapture.open(options));
  }
  of(pid: number): CaptureEvent[] {
    return this.events.filter((e) => e.process.pid === pid);
  }
  data(pid: number): DataEvent[] {
    return this.events.filter((e): e is DataEvent => e.kind === 'data' && e.process.pid === pid);
  }
  /** Drains the ring until pred holds or timeoutMs passes; returns whether it held. */
  async until(pred: () => boolean, timeoutMs = 5000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      this.capture.pollNow();
      if (pred()) return true;
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  close(): void { this.capture.close(); }
}

export interface Peer { child: ChildProcess; pid: number; lines: string[]; waitLine(prefix: string, timeoutMs?: number): Promise<string> }

/** Starts a peer (node script from peers/ or a program) and collects its stdout lines. */
export function startPeer(command: string, args: string[]): Peer {
  const isScript = command.endsWith('.js');
  const child = spawn(isScript ? process.execPath : command, isScript ? [command, ...args] : args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1); }
  });
  const peer: Peer = {
    child, pid: child.pid!, lines,
    async waitLine(prefix, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        const l = lines.find((x) => x.startsWith(prefix));
        if (l !== undefined) return l;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`peer ${command} ${args.join(' ')}: no line starting with '${prefix}' (got ${JSON.stringify(lines)})`);
    },
  };
  return peer;
}

/** Starts a server peer and returns it with the port it printed as `ready <port>`. */
export async function startServer(name: string, args: string[] = []): Promise<Peer & { port: number }> {
  const p = startPeer(peerPath(name), args);
  const line = await p.waitLine('ready ');
  return Object.assign(p, { port: Number(line.split(' ')[1]) });
}

/** Runs a program to completion (bounded by timeoutMs); returns its pid, exit code and stdout. */
export async function run(command: string, args: string[], timeoutMs = 15_000): Promise<{ pid: number; code: number | null; stdout: string }> {
  const isScript = command.endsWith('.js');
  const child = spawn(isScript ? process.execPath : command, isScript ? [command, ...args] : args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = await once(child, 'exit') as [number | null];
  clearTimeout(timer);
  return { pid: child.pid!, code, stdout };
}

export function stopPeer(p: Peer | undefined): void {
  if (!p || p.child.exitCode !== null) return;
  p.child.stdin?.end();
  p.child.kill('SIGTERM');
}

export const text = (e: DataEvent) => Buffer.from(e.bytes).toString('latin1');
export const firstLine = (e: DataEvent) => text(e).split('\r\n')[0] ?? '';
