// Real kernel, real TCP in two network namespaces: a refused connect, a server that aborts
// mid-response (SO_LINGER 0), a connect that times out (SYN dropped by iptables), retransmits from
// random drops (iptables statistic: this kernel has no netem), a listener with backlog 1 that never
// accepts, and a DNAT'd connection whose conntrack entry is deleted mid-connection. Each checks the
// sockeye.tcp.* metric values a user would look at (and the /metrics text for the names).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkHealth } from '../../agent/network-health/network-health.js';
import { TCP_METRIC } from '../../agent/network-health/tcp-metrics.js';
import { UNATTRIBUTED_SERVICE } from '../../agent/network-health/tcp-event-metrics.js';
import type { TcpEvent } from '../../agent/network-health/tcp-event-decoder.js';
import { ProcessResources } from '../../agent/signals/process-resource.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { execFileSync } from 'node:child_process';
import { CLIENT_IP, PYTHON, SERVER_IP, TcpLab, labUnavailable } from './tcp-lab.js';

const skip = labUnavailable();
let lab: TcpLab;
let nh: NetworkHealth;
const telemetry = new TelemetryRegistry();
const identities = new ProcessResources();
const events: TcpEvent[] = [];

before(() => {
  if (skip) return;
  lab = new TcpLab();
  lab.create();
  nh = NetworkHealth.start({ telemetry, identities, onEvent: (e) => events.push(e) });
});
after(async () => {
  await nh?.stop();
  lab?.destroy();
});

async function until(pred: () => boolean, ms = 8000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    nh.capture.pollNow();
    if (pred()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The process the kernel attributed events of this kind and port to (local or remote port). */
const ownersOf = (kind: TcpEvent['kind'], port: number) => new Set(events.filter((e) => e.kind === kind && (e.localPort === port || e.remotePort === port)).map((e) => e.owner?.pid));
const total = (name: Parameters<NetworkHealth['metrics']['total']>[0], match: Record<string, string | number>, service?: string) => nh.metrics.total(name, match, service);

test('connection refused: error.type on the connect histogram, reset received in syn_sent, the RST the server host sent for no socket', { skip }, async () => {
  const port = 20_001;
  const curl = lab.start(lab.client, 'curl', '-s', '-m', '5', `http://${SERVER_IP}:${port}/`);
  assert.equal(await curl.exit, 7, 'curl: failed to connect');
  const peer = { 'server.address': SERVER_IP, 'server.port': port };
  assert.ok(await until(() => total(TCP_METRIC.connectDuration, { ...peer, 'error.type': 'connection_refused' }) === 1),
    `one refused connect: ${JSON.stringify(nh.metrics.series().filter((s) => s.attributes['server.port'] === port))}`);
  assert.equal(total(TCP_METRIC.connections, { ...peer, 'sockeye.tcp.connection.event': 'opened' }), 0, 'no connection opened');
  assert.equal(total(TCP_METRIC.resets, { ...peer, 'sockeye.tcp.reset.direction': 'received', 'sockeye.tcp.state': 'syn_sent' }), 1);
  assert.ok(await until(() => total(TCP_METRIC.resets, { 'network.peer.address': CLIENT_IP, 'sockeye.tcp.reset.direction': 'sent',
    'sockeye.tcp.reset.reason': 'no_socket' }, UNATTRIBUTED_SERVICE) >= 1), 'the server host\'s kernel sent the RST, for no socket');
  const prom = nh.renderPrometheus();
  assert.deepEqual(ownersOf('connect', port), new Set([curl.pid]), 'attributed to curl');
  assert.match(prom, new RegExp(`^sockeye_tcp_connect_duration_seconds_count\\{service_name="[^"]+",server_address="${SERVER_IP.replace(/\./g, '\\.')}",server_port="${port}",error_type="connection_refused"\\} 1$`, 'm'));
  assert.match(prom, /^sockeye_tcp_resets_total\{.*sockeye_tcp_reset_direction="received".*\} 1$/m);
});

const LINGER_SERVER = `
import socket, struct, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(8); print('ready')
c, _ = s.accept(); c.recv(4096)
c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 100000\\r\\n\\r\\n' + b'x' * 1000)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close()
`;

test('a server aborting mid-response (SO_LINGER 0): reset sent by the server in established, received by the client', { skip }, async () => {
  const port = 20_002;
  const server = await lab.python(lab.server, LINGER_SERVER, String(port));
  const curl = lab.start(lab.client, 'curl', '-s', '-o', '/dev/null', '-m', '5', `http://${SERVER_IP}:${port}/`);
  const code = await curl.exit;
  assert.ok(code === 56 || code === 18, `curl failed on the reset (exit ${code})`);
  await server.exit;
  assert.ok(await until(() => total(TCP_METRIC.resets, { 'sockeye.tcp.reset.direction': 'received', 'server.port': port }) === 1 &&
    total(TCP_METRIC.resets, { 'sockeye.tcp.reset.direction': 'sent', 'server.port': port }) === 1),
  `resets: ${JSON.stringify(nh.metrics.series().filter((s) => s.name === TCP_METRIC.resets && s.attributes['server.port'] === port))}`);
  const resets = (dir: string) => nh.metrics.series().find((s) => s.name === TCP_METRIC.resets && s.attributes['server.port'] === port && s.attributes['sockeye.tcp.reset.direction'] === dir)!;
  const sent = resets('sent');
  assert.deepEqual(ownersOf('reset_sent', port), new Set([server.pid]), 'the reset is the server process\'s');
  assert.deepEqual(ownersOf('reset_received', port), new Set([curl.pid]), 'received by curl');
  assert.notEqual(sent.service, UNATTRIBUTED_SERVICE);
  assert.equal(sent.attributes['client.address'], CLIENT_IP, 'the accepting side labels the client address');
  assert.equal(sent.attributes['client.port'], undefined, 'never the client\'s ephemeral port');
  assert.equal(sent.attributes['sockeye.tcp.role'], 'server');
  assert.equal(sent.attributes['sockeye.tcp.state'], 'established', 'state the connection was in when closed with the reset');
  assert.ok(nh.reasons.known === 0 || !/^\d+$/.test(String(sent.attributes['sockeye.tcp.reset.reason'])), `reason named: ${sent.attributes['sockeye.tcp.reset.reason']}`);
  const got = resets('received');
  assert.equal(got.attributes['sockeye.tcp.state'], 'established');
  assert.equal(got.attributes['server.address'], SERVER_IP);
  assert.equal(total(TCP_METRIC.connections, { 'sockeye.tcp.role': 'server', 'sockeye.tcp.connection.event': 'opened', 'server.port': port }), 1, 'server: one accepted');
  assert.equal(total(TCP_METRIC.connections, { 'sockeye.tcp.role': 'client', 'sockeye.tcp.connection.event': 'opened', 'server.port': port }), 1, 'client: one opened');
  assert.ok(await until(() => total(TCP_METRIC.connections, { 'sockeye.tcp.role': 'client', 'sockeye.tcp.connection.event': 'closed', 'server.port': port }) === 1), 'client: closed');
  assert.equal(total(TCP_METRIC.connectionDuration, { 'sockeye.tcp.role': 'client', 'server.port': port }), 1);
  assert.equal(total(TCP_METRIC.rtt, { 'sockeye.tcp.role': 'client', 'server.port': port }), 1, 'smoothed RTT taken at close');
  assert.equal(total(TCP_METRIC.connections, { 'sockeye.tcp.role': 'server', 'sockeye.tcp.connection.event': 'closed', 'server.port': port }), 1, 'server: closed');
});

test('a connect that times out (SYN dropped): error.type timeout after the SYN retries, SYN retransmits told apart', { skip }, async () => {
  const port = 20_003;
  lab.sh(lab.server, 'iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '--syn', '-j', 'DROP');
  lab.sh(lab.client, 'sysctl', '-q', '-w', 'net.ipv4.tcp_syn_retries=1'); // 1 s + 2 s, not two minutes
  const synBefore = lab.kernelCounter(lab.client, 'TcpExt', 'TCPSynRetrans');
  const py = lab.start(lab.client, '/usr/bin/python3', '-c', `
import socket, errno
try: socket.create_connection(('${SERVER_IP}', ${port}))
except OSError as e: print(errno.errorcode.get(e.errno))`);
  assert.equal(await py.exit, 0);
  assert.deepEqual(py.lines, ['ETIMEDOUT']);
  const peer = { 'server.address': SERVER_IP, 'server.port': port };
  assert.ok(await until(() => total(TCP_METRIC.connectDuration, { ...peer, 'error.type': 'timeout' }) === 1), 'one timed-out connect');
  const s = nh.metrics.series().find((x) => x.name === TCP_METRIC.connectDuration && x.attributes['server.port'] === port)!;
  assert.ok(s.sum >= 2.5 && s.sum < 6, `took the SYN retries' time: ${s.sum} s`);
  const synRetrans = lab.kernelCounter(lab.client, 'TcpExt', 'TCPSynRetrans') - synBefore;
  assert.ok(synRetrans >= 1);
  assert.equal(total(TCP_METRIC.retransmits, { ...peer, 'sockeye.tcp.retransmit.kind': 'syn' }), synRetrans, 'SYN retransmits: as many as the kernel counted');
  assert.equal(total(TCP_METRIC.retransmits, { ...peer, 'sockeye.tcp.retransmit.kind': 'data' }), 0);
  assert.deepEqual(ownersOf('connect', port), new Set([py.pid]));
});

test('retransmits from random drops: counted for the sender, never more than the kernel\'s own RetransSegs', { skip }, async () => {
  const port = 20_004;
  lab.sh(lab.server, 'sh', '-c', `head -c 2000000 /dev/zero > /tmp/nh-${lab.server}.bin`);
  const server = await lab.python(lab.server, `
import http.server, functools, os, sys
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
h = functools.partial(H, directory='/tmp')
srv = http.server.ThreadingHTTPServer(('0.0.0.0', int(sys.argv[1])), h); print('ready'); srv.serve_forever()`, String(port));
  lab.sh(lab.client, 'iptables', '-A', 'INPUT', '-p', 'tcp', '--sport', String(port), '-m', 'statistic', '--mode', 'random', '--probability', '0.05', '-j', 'DROP');
  const before = lab.kernelCounter(lab.server, 'Tcp', 'RetransSegs');
  try {
    for (let i = 0; i < 3; i++) {
      const curl = lab.start(lab.client, 'curl', '-s', '-o', '/dev/null', '-m', '20', `http://${SERVER_IP}:${port}/nh-${lab.server}.bin`);
      assert.equal(await curl.exit, 0, 'download completes despite the drops');
    }
  } finally {
    lab.sh(lab.server, 'rm', '-f', `/tmp/nh-${lab.server}.bin`);
  }
  const kernel = lab.kernelCounter(lab.server, 'Tcp', 'RetransSegs') - before;
  const ours = () => total(TCP_METRIC.retransmits, { 'sockeye.tcp.role': 'server', 'server.port': port, 'client.address': CLIENT_IP });
  assert.ok(kernel > 0, 'the drops made the kernel retransmit');
  await until(() => ours() > 0);
  const owners = ownersOf('retransmit', port);
  assert.ok(owners.has(server.pid) && !owners.has(undefined), 'the sender (server) retransmitted, every retransmit attributed');
  assert.ok(ours() > 0 && ours() <= kernel, `ours ${ours()} vs kernel RetransSegs ${kernel} (a TSO retransmit is one event, several segments)`);
  server.child.kill('SIGTERM');
});

test('a listener with backlog 1 that never accepts: listen overflows on its port, attributed to the listener', { skip }, async () => {
  const port = 20_005;
  const server = await lab.python(lab.server, `
import socket, sys, time
s = socket.socket(); s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(1); print('ready'); time.sleep(30)`, String(port));
  const before = lab.kernelCounter(lab.server, 'TcpExt', 'ListenOverflows');
  // One connection fills the accept queue half-way; the last handshake ACKs of two more (source
  // ports 30002-30003) are held back, so both wait as requests. Released, the first fills the accept
  // queue and the second's ACK overflows it: the kernel drops it with its listen-overflow reason.
  const holdAcks = ['OUTPUT', '-p', 'tcp', '--dport', String(port), '--sport', '30002:30003', '--tcp-flags', 'SYN,ACK', 'ACK', '-j', 'DROP'];
  lab.sh(lab.client, 'iptables', '-A', ...holdAcks);
  const clients = lab.start(lab.client, '/usr/bin/python3', '-u', '-c', `
import socket, time
ss = []
for i in range(3):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('${CLIENT_IP}', 30001 + i))
    s.setblocking(i == 0); s.connect_ex(('${SERVER_IP}', ${port})); ss.append(s)
print('held')
time.sleep(1)
for s in ss:
    try: s.send(b'x')
    except OSError: pass
time.sleep(2.5)`);
  const end = Date.now() + 5000;
  while (!clients.lines.includes('held') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));
  lab.sh(lab.client, 'iptables', '-D', ...holdAcks);
  await clients.exit;
  const kernel = lab.kernelCounter(lab.server, 'TcpExt', 'ListenOverflows') - before;
  assert.ok(kernel > 0, 'the kernel counted listen overflows');
  await until(() => total(TCP_METRIC.listenOverflows, { 'server.port': port }) > 0);
  const ours = total(TCP_METRIC.listenOverflows, { 'server.port': port });
  assert.ok(ours > 0 && ours <= kernel, `ours ${ours} vs kernel ListenOverflows ${kernel}`);
  assert.deepEqual(ownersOf('listen_overflow', port), new Set([server.pid]), 'attributed to the listening process');
  assert.match(nh.renderPrometheus(), new RegExp(`^sockeye_tcp_listen_overflows_total\\{service_name="[^"]+",server_port="${port}"\\} ${ours}$`, 'm'));
  server.child.kill('SIGTERM');
});

test('a listener with backlog 1 that never accepts, plain connects: the SYNs the full queue drops are the kernel\'s ListenOverflows, not ours (the documented undercount)', { skip }, async () => {
  const port = 20_007;
  const server = await lab.python(lab.server, `
import socket, sys, time
s = socket.socket(); s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(1); print('ready'); time.sleep(30)`, String(port));
  const before = lab.kernelCounter(lab.server, 'TcpExt', 'ListenOverflows');
  // Two handshakes fill the queue (backlog 1 holds two); the SYNs of the next four, and their
  // retransmits, find it full. One at a time, so no handshake is half-way when it fills: every
  // overflow is a SYN, which the kernel frees as consumed (no drop reason) — docs/network-health.md, Limits.
  const clients = lab.start(lab.client, PYTHON, '-u', '-c', `
import socket, time
ss = []
for i in range(6):
    s = socket.socket(); s.setblocking(False); s.connect_ex(('${SERVER_IP}', ${port})); ss.append(s); time.sleep(0.1)
time.sleep(1.5)`);
  await clients.exit;
  const kernel = lab.kernelCounter(lab.server, 'TcpExt', 'ListenOverflows') - before;
  assert.ok(kernel >= 4, `the kernel counted the dropped SYNs (${kernel})`);
  await until(() => false, 300); // drain what there is
  const ours = total(TCP_METRIC.listenOverflows, { 'server.port': port });
  assert.ok(ours < kernel, `ours ${ours} vs kernel ListenOverflows ${kernel}: SYN drops carry no reason`);
  const accepted = total(TCP_METRIC.connections, { 'client.address': CLIENT_IP, 'server.port': port, 'sockeye.tcp.connection.event': 'opened' }, identities.get({ pid: server.pid, tid: server.pid, comm: 'python3', cgroupId: 0n, netns: 0 }).serviceName);
  assert.equal(accepted, 2, 'the two connections the queue took were seen (accepted by the kernel, never by the application)');
  server.child.kill('SIGTERM');
});

test('a DNAT\'d connection whose conntrack entry is deleted: the client host\'s kernel resets the server\'s reply, for no socket', { skip: skip ?? conntrackUnavailable() }, async () => {
  const port = 20_006;
  const vip = '198.19.117.100';
  // The client host translates its own connections to the Service address (as kube-proxy on a node).
  lab.sh(lab.client, 'iptables', '-t', 'nat', '-A', 'OUTPUT', '-d', vip, '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', `${SERVER_IP}:${port}`);
  // Loose pickup off: a mid-stream packet without an entry is INVALID, not a new translated flow.
  lab.sh(lab.client, 'sysctl', '-q', '-w', 'net.netfilter.nf_conntrack_tcp_loose=0');
  const server = await lab.python(lab.server, `
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(8); print('ready')
c, _ = s.accept(); c.recv(4096); print('got')
time.sleep(1.5)
c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')
try:
    time.sleep(0.5); c.sendall(b'more'); time.sleep(0.5); print('peer', c.recv(10))
except OSError as e: print('error', e.errno)`, String(port));
  const client = lab.start(lab.client, PYTHON, '-c', `
import socket
c = socket.create_connection(('${vip}', 80)); c.sendall(b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'); c.settimeout(4)
try: print('reply', c.recv(100))
except OSError as e: print('error', type(e).__name__)`);
  const end = Date.now() + 5000;
  while (!server.lines.includes('got') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.ok(server.lines.includes('got'), 'the request went through the DNAT');
  lab.sh(lab.client, 'conntrack', '-D', '-p', 'tcp', '--orig-dst', vip);
  await client.exit;
  await server.exit;
  assert.deepEqual(client.lines, ['error TimeoutError'], 'the client never saw the reply');
  assert.ok(server.lines.some((l) => l === 'error 104' || l.startsWith('peer b\'\'')), `the server's connection was reset: ${server.lines.join('|')}`);
  const sentByKernel = { 'network.peer.address': SERVER_IP, 'sockeye.tcp.reset.direction': 'sent', 'sockeye.tcp.reset.reason': 'no_socket' };
  assert.ok(await until(() => total(TCP_METRIC.resets, sentByKernel, UNATTRIBUTED_SERVICE) >= 1 &&
    total(TCP_METRIC.resets, { 'sockeye.tcp.role': 'server', 'server.port': port, 'sockeye.tcp.reset.direction': 'received' }) === 1),
  `resets: ${JSON.stringify(nh.metrics.series().filter((s) => s.name === TCP_METRIC.resets))}`);
  const clientNetns = events.find((e) => e.kind === 'connect' && e.remoteAddr === vip)?.netns;
  assert.ok(clientNetns, 'the client connected to the Service address (its socket never sees the backend)');
  const rst = events.filter((e) => e.kind === 'reset_sent' && e.noSocket && e.remoteAddr === SERVER_IP && e.remotePort === port);
  assert.ok(rst.length >= 1 && rst.every((e) => e.netns === clientNetns && e.localAddr === CLIENT_IP), 'sent by the client host\'s kernel (its namespace), for a packet that matched no socket');
  const got = nh.metrics.series().find((s) => s.name === TCP_METRIC.resets && s.attributes['server.port'] === port && s.attributes['sockeye.tcp.reset.direction'] === 'received')!;
  assert.equal(got.attributes['client.address'], CLIENT_IP);
  assert.equal(got.attributes['sockeye.tcp.state'], 'established');
  assert.deepEqual(ownersOf('reset_received', port), new Set([server.pid]));
  assert.equal(total(TCP_METRIC.resets, { 'sockeye.tcp.role': 'client', 'server.port': 80 }), 0, 'the client socket itself neither sent nor received a reset');
});

function conntrackUnavailable(): string | undefined {
  try { execFileSync('sh', ['-c', 'command -v conntrack'], { stdio: 'ignore' }); return undefined; } catch { return 'conntrack (the tool) is not installed'; }
}
