// A node in miniature, built from real network namespaces: a client "pod", a server "pod" and a
// "node" namespace routing between them that DNATs a Service VIP to the backend in PREROUTING, as
// kube-proxy does. Addresses stay inside 198.18.0.0/15. Names are unique per run; destroy() removes
// everything (namespaces take their veths, rules and conntrack entries with them).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export const CLIENT_IP = '198.18.1.2';
export const SERVER_IP = '198.18.2.2';
export const VIP = '198.18.100.10';
export const VIP_PORT = 80;
export const SERVER_PORT = 8080;

/** Why these tests cannot run here, or undefined when they can (root, iproute2, iptables, conntrack). */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces and load conntrack';
  for (const tool of ['ip', 'iptables', 'conntrack', 'nsenter']) {
    try { execFileSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`], { stdio: 'ignore' }); } catch { return `${tool} is not installed (scripts/setup.sh installs it)`; }
  }
  return undefined;
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

export class NodeTopology {
  readonly node: string;
  readonly client: string;
  readonly server: string;
  private readonly procs: ChildProcess[] = [];

  constructor() {
    const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    this.node = `skn-${id}`;
    this.client = `skc-${id}`;
    this.server = `sks-${id}`;
  }

  get nodeNetnsPath(): string { return `/run/netns/${this.node}`; }

  create(): void {
    const { node, client, server } = this;
    for (const ns of [node, client, server]) sh('ip', ['netns', 'add', ns]);
    const inNs = (ns: string, ...a: string[]) => sh('ip', ['netns', 'exec', ns, ...a]);
    // veth names are per namespace, so short fixed names cannot clash between runs.
    sh('ip', ['link', 'add', 'c0', 'netns', client, 'type', 'veth', 'peer', 'name', 'nc0', 'netns', node]);
    sh('ip', ['link', 'add', 's0', 'netns', server, 'type', 'veth', 'peer', 'name', 'ns0', 'netns', node]);
    inNs(node, 'ip', 'addr', 'add', '198.18.1.1/24', 'dev', 'nc0');
    inNs(node, 'ip', 'addr', 'add', '198.18.2.1/24', 'dev', 'ns0');
    inNs(client, 'ip', 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'c0');
    inNs(server, 'ip', 'addr', 'add', `${SERVER_IP}/24`, 'dev', 's0');
    for (const [ns, devs] of [[node, ['lo', 'nc0', 'ns0']], [client, ['lo', 'c0']], [server, ['lo', 's0']]] as const) {
      for (const d of devs) inNs(ns, 'ip', 'link', 'set', d, 'up');
    }
    inNs(client, 'ip', 'route', 'add', 'default', 'via', '198.18.1.1');
    inNs(server, 'ip', 'route', 'add', 'default', 'via', '198.18.2.1');
    inNs(node, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    // The Service: VIP:80 → backend:8080, translated where the packet enters the node.
    inNs(node, 'iptables', '-t', 'nat', '-A', 'PREROUTING', '-d', `${VIP}/32`, '-p', 'tcp', '--dport', String(VIP_PORT),
      '-j', 'DNAT', '--to-destination', `${SERVER_IP}:${SERVER_PORT}`);
  }

  /** Runs `node -e script` inside a namespace; resolves with its stdout when it exits 0. */
  run(ns: string, script: string, args: string[] = []): Promise<string> {
    return new Promise((resolve, reject) => {
      const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.procs.push(p);
      let out = '', err = '';
      p.stdout.on('data', (c: Buffer) => { out += c; });
      p.stderr.on('data', (c: Buffer) => { err += c; });
      p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`script in ${ns} exited ${code}: ${err}`))));
    });
  }

  /** Starts a long-running `node -e script` in a namespace; resolves once it prints its first line. */
  startDaemon(ns: string, script: string): Promise<ChildProcess> {
    return new Promise((resolve, reject) => {
      const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.procs.push(p);
      let err = '';
      p.stderr.on('data', (c: Buffer) => { err += c; });
      p.stdout.once('data', () => resolve(p));
      p.on('exit', (code) => reject(new Error(`daemon in ${ns} exited ${code}: ${err}`)));
    });
  }

  conntrack(ns: string, ...args: string[]): string {
    try { return sh('ip', ['netns', 'exec', ns, 'conntrack', ...args]); } catch (e) { return String((e as { stdout?: Buffer }).stdout ?? ''); }
  }

  destroy(): void {
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const ns of [this.client, this.server, this.node]) {
      try { sh('ip', ['netns', 'del', ns]); } catch { /* never created */ }
    }
  }
}

/** A TCP server that answers one line and closes: the shortest useful connection. */
export const TCP_ECHO_SERVER = `
import net from 'node:net';
const s = net.createServer((c) => { c.once('data', () => c.end('ok\\n')); c.on('error', () => {}); });
s.listen(${SERVER_PORT}, '0.0.0.0', () => console.log('listening'));
`;

/** Makes N sequential connections to host:port; prints JSON [{ port, ms }]. */
export const SHORT_CONNECTIONS_CLIENT = `
import net from 'node:net';
const [host, port, n] = process.argv.slice(-3);
const out = [];
for (let i = 0; i < Number(n); i++) {
  await new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = net.connect({ host, port: Number(port) }, () => c.write('hi'));
    let local = 0;
    c.on('connect', () => { local = c.localPort; });
    c.on('data', () => {});
    c.on('error', reject);
    c.on('close', () => { out.push({ port: local, ms: Number(process.hrtime.bigint() - t0) / 1e6 }); resolve(); });
  });
}
console.log(JSON.stringify(out));
`;
