// The agent's own connections. The capture never sees the agent's side of them (it excludes the
// agent's pid), but the far side may be on this node too — e.g. a collector receiving our OTLP
// export — and tracing it would feed every export back into the next one. So transactions whose
// peer is one of our own sockets are dropped (and counted). Our sockets: /proc/self/fd entries
// `socket:[inode]` matched against /proc/net/tcp{,6} (socket inode → local port).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isLoopbackText } from './peer-linker.js';

export function readOwnLocalPorts(procRoot = '/proc'): Set<number> {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try { fds = readdirSync(`${procRoot}/self/fd`); } catch { return new Set(); }
  for (const fd of fds) {
    try {
      const l = readlinkSync(`${procRoot}/self/fd/${fd}`);
      if (l.startsWith('socket:[')) inodes.add(l.slice(8, -1));
    } catch { /* closed meanwhile */ }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try { text = readFileSync(`${procRoot}/self/net/${table}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9]!)) continue;
      const local = cols[1]!;
      ports.add(parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return ports;
}


/**
 * Answers "is this connection's peer one of our sockets?". Looking costs a /proc scan, so it is
 * rationed: a miss on a connection to one of our export endpoints' ports (the only way our
 * traffic can come back to us) always looks again (at most every 2 ms); any other miss at most
 * once per `otherRefreshMs`.
 */
export class OwnSockets {
  private ports = new Set<number>();
  private lastRefresh = 0;

  constructor(
    private readonly exportPorts: ReadonlySet<number> = new Set(),
    private readonly localAddrs: () => ReadonlySet<string> = () => new Set(),
    private readonly otherRefreshMs = 1000,
  ) {}

  refresh(now = Date.now()): void {
    this.ports = readOwnLocalPorts();
    this.lastRefresh = now;
  }

  /** True when the peer (remote end) of a connection whose local port is `localPort` is one of our sockets. */
  isOwnPeer(remoteAddr: string, remotePort: number, localPort: number, now = Date.now()): boolean {
    if (!isLoopbackText(remoteAddr) && !this.localAddrs().has(remoteAddr)) return false;
    if (this.ports.has(remotePort)) return true;
    const wait = this.exportPorts.has(localPort) ? 2 : this.otherRefreshMs;
    if (now - this.lastRefresh < wait) return false;
    this.refresh(now); // a new connection of ours may have opened since the last look
    return this.ports.has(remotePort);
  }
}

/** Ports our OTLP export may connect to: the configured endpoint, the OTEL_* ones, the defaults. */
export function exportPorts(endpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): Set<number> {
  const ports = new Set<number>([4317, 4318]);
  for (const url of [endpoint, env.OTEL_EXPORTER_OTLP_ENDPOINT, env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT]) {
    if (!url) continue;
    try {
      const u = new URL(url);
      ports.add(Number(u.port || (u.protocol === 'https:' ? 443 : 80)));
    } catch { /* the exporter reports bad URLs */ }
  }
  return ports;
}
