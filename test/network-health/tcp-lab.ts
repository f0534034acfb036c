// Two network namespaces joined by a veth pair: a client host and a server host inside
// 198.19.117.0/24 (198.18.0.0/15, the benchmarking range). Names are unique per run (nhc-/nhs-);
// destroy() kills what was started and deletes the namespaces (with their veths and rules).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export const CLIENT_IP = '198.19.117.1';
export const SERVER_IP = '198.19.117.2';
export const PYTHON = '/usr/bin/python3';

export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces and BPF';
  for (const tool of ['ip', 'iptables', 'curl', PYTHON]) {
    try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); } catch { return `${tool} is not installed (scripts/setup.sh installs it)`; }
  }
  return undefined;
}

export interface Proc { child: ChildProcess; pid: number; lines: string[]; exit: Promise<number | null> }

export class TcpLab {
  readonly client: string;
  readonly server: string;
  private readonly procs: ChildProcess[] = [];

  constructor() {
    const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    this.client = `nhc-${id}`;
    this.server = `nhs-${id}`;
  }

  create(): void {
    for (const ns of [this.client, this.server]) execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['link', 'add', 'nh0', 'netns', this.client, 'type', 'veth', 'peer', 'name', 'nh1', 'netns', this.server]);
    this.sh(this.client, 'ip', 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'nh0');
    this.sh(this.server, 'ip', 'addr', 'add', `${SERVER_IP}/24`, 'dev', 'nh1');
    for (const [ns, dev] of [[this.client, 'nh0'], [this.server, 'nh1']] as const) {
      this.sh(ns, 'ip', 'link', 'set', 'lo', 'up');
      this.sh(ns, 'ip', 'link', 'set', dev, 'up');
    }
  }

  /** Runs a command in a namespace to completion; returns stdout (throws on failure). */
  sh(ns: string, cmd: string, ...args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 }).toString();
  }

  /** Starts a command in a namespace, collecting stdout lines. `ip netns exec` execs, so pid is the program's. */
  start(ns: string, cmd: string, ...args: string[]): Proc {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.procs.push(child);
    const lines: string[] = [];
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1); }
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, pid: child.pid!, lines, exit };
  }

  /** Starts a Python script in a namespace and waits for its `ready` line. */
  async python(ns: string, script: string, ...args: string[]): Promise<Proc> {
    const p = this.start(ns, PYTHON, '-u', '-c', script, ...args);
    const end = Date.now() + 10_000;
    while (!p.lines.includes('ready')) {
      if (Date.now() > end || p.child.exitCode !== null) throw new Error(`python in ${ns} did not get ready: ${p.lines.join('|')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return p;
  }

  /** A TCP counter of a namespace from /proc/net/snmp (Tcp:) or /proc/net/netstat (TcpExt:). */
  kernelCounter(ns: string, section: 'Tcp' | 'TcpExt', name: string): number {
    const text = this.sh(ns, 'cat', section === 'Tcp' ? '/proc/net/snmp' : '/proc/net/netstat');
    const rows = text.split('\n').filter((l) => l.startsWith(`${section}: `)).map((l) => l.split(/\s+/).slice(1));
    const i = rows[0]!.indexOf(name);
    return Number(rows[1]![i]);
  }

  destroy(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const ns of [this.client, this.server]) {
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* never made */ }
    }
  }
}
