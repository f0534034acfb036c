// ConntrackWatcher against the real kernel: a node namespace DNATs a Service VIP to a backend the way
// kube-proxy does, real clients make real TCP connections, and the watcher — reading ctnetlink in the
// node namespace — must know each connection's real destination, including connections that lived
// under 10 ms and were already destroyed when looked up.
import { test as baseTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ConntrackWatcher } from '../../agent/conntrack/conntrack-watcher.js';
import {
  NodeTopology, netnsUnavailable, CLIENT_IP, SERVER_IP, VIP, VIP_PORT, SERVER_PORT, TCP_ECHO_SERVER, SHORT_CONNECTIONS_CLIENT,
} from './helpers/netns-node-topology.js';

const skip = netnsUnavailable();
const test = (name: string, fn: () => Promise<void> | void) => baseTest(name, { skip }, fn);
const topo = new NodeTopology();
let watcher: ConntrackWatcher | undefined;
// Every watcher a test starts, so a failed assertion cannot leave a relay process keeping the run alive.
const started = new Set<ConntrackWatcher>();
async function startWatcher(opts: Parameters<typeof ConntrackWatcher.start>[0]): Promise<ConntrackWatcher> {
  const w = await ConntrackWatcher.start(opts);
  started.add(w);
  return w;
}

before(async () => {
  if (skip) return;
  topo.create();
  await topo.startDaemon(topo.server, TCP_ECHO_SERVER);
});
after(() => {
  for (const w of started) w.close();
  topo.destroy();
});

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (cond()) return true; await new Promise((r) => setTimeout(r, 20)); }
  return cond();
}

interface Conn { port: number; ms: number }

test('200 short connections to the VIP all resolve to the backend, also after conntrack destroyed them', async () => {
  watcher = await startWatcher({ netnsPath: topo.nodeNetnsPath, graceMs: 1500 });
  const conns = JSON.parse(await topo.run(topo.client, SHORT_CONNECTIONS_CLIENT, [VIP, String(VIP_PORT), '200'])) as Conn[];
  assert.equal(conns.length, 200);
  const short = conns.filter((c) => c.ms < 10).length;
  assert.ok(short >= 150, `most connections should live under 10 ms (got ${short}/200)`);

  const q = (port: number) => ({ localAddress: CLIENT_IP, localPort: port, remoteAddress: VIP, remotePort: VIP_PORT });
  const w = watcher;
  const allResolved = () => conns.every((c) => w.lookup(q(c.port)) !== undefined);
  assert.ok(await until(allResolved, 2000), `unresolved: ${conns.filter((c) => !w.lookup(q(c.port))).length}/200`);
  for (const c of conns) assert.deepEqual(w.lookup(q(c.port)), { address: SERVER_IP, port: SERVER_PORT });

  // Closed TCP connections sit in TIME_WAIT in conntrack; flushing them makes the kernel send the
  // DESTROY events a busy node sends once entries time out.
  topo.conntrack(topo.node, '-D', '-d', VIP);
  assert.ok(await until(() => w.counters().events >= 400, 2000), `events seen: ${w.counters().events}`);
  assert.ok(conns.every((c) => w.lookup(q(c.port))?.address === SERVER_IP), 'entries must outlive DESTROY by the grace period');
  assert.ok(await until(() => w.counters().natEntries === 0, 3000), 'destroyed entries must expire after the grace period');
  assert.equal(w.lookup(q(conns[0]!.port)), undefined);
  const c = w.counters();
  assert.ok(c.expired >= 200, `expired ${c.expired}`);
  assert.equal(c.malformed, 0);
  assert.equal(c.errors, 0);
  watcher.close();
  watcher = undefined;
});

test('connections opened before the watcher started come from the initial dump', async () => {
  // Hold connections open across the watcher's start: only the dump can report them.
  const holder = await topo.startDaemon(topo.client, `
import net from 'node:net';
const ports = [];
for (let i = 0; i < 5; i++) await new Promise((r) => { const c = net.connect({ host: '${VIP}', port: ${VIP_PORT} }, () => { ports.push(c.localPort); r(); }); });
console.log(JSON.stringify(ports));
setInterval(() => {}, 1000);
`);
  // Which client ports are open to the VIP, as conntrack itself lists them.
  const listed = topo.conntrack(topo.node, '-L', '-d', VIP).split('\n').filter((l) => l.includes('ESTABLISHED'));
  const open = listed.map((l) => Number(/sport=(\d+)/.exec(l)?.[1])).filter((p) => p > 0);
  assert.equal(open.length, 5, `established connections in conntrack: ${listed.join('\n')}`);
  watcher = await startWatcher({ netnsPath: topo.nodeNetnsPath });
  await watcher.ready;
  assert.ok(watcher.counters().dumpedEntries >= 5);
  for (const p of open) {
    assert.deepEqual(watcher.lookup({ localAddress: CLIENT_IP, localPort: p, remoteAddress: VIP, remotePort: VIP_PORT }), { address: SERVER_IP, port: SERVER_PORT });
  }
  holder.kill('SIGKILL');
  watcher.close();
  watcher = undefined;
});

test('connections without NAT are known as untranslated (null), not NAT rows: their spans pass unchanged', async () => {
  watcher = await startWatcher({ netnsPath: topo.nodeNetnsPath });
  const before = watcher.counters().natEntries; // earlier tests' VIP connections linger in TIME_WAIT
  const conns = JSON.parse(await topo.run(topo.client, SHORT_CONNECTIONS_CLIENT, [SERVER_IP, String(SERVER_PORT), '20'])) as Conn[];
  await new Promise((r) => setTimeout(r, 200));
  const w = watcher;
  assert.ok(w.counters().events >= 20, 'the connections were seen as conntrack events');
  // null = conntrack reported them untranslated (nothing to wait for); undefined would mean "no news yet".
  for (const c of conns) assert.equal(w.lookup({ localAddress: CLIENT_IP, localPort: c.port, remoteAddress: SERVER_IP, remotePort: SERVER_PORT }), null);
  assert.equal(w.counters().natEntries, before);
  watcher.close();
  watcher = undefined;
});

test('IPv4-mapped addresses from dual-stack sockets find the IPv4 conntrack entry', async () => {
  watcher = await startWatcher({ netnsPath: topo.nodeNetnsPath, graceMs: 60_000 });
  const [conn] = JSON.parse(await topo.run(topo.client, SHORT_CONNECTIONS_CLIENT, [VIP, String(VIP_PORT), '1'])) as Conn[];
  const w = watcher;
  const q = { localAddress: `::ffff:${CLIENT_IP}`, localPort: conn!.port, remoteAddress: `::ffff:${VIP}`, remotePort: VIP_PORT };
  assert.ok(await until(() => w.lookup(q) !== undefined, 2000));
  assert.equal(w.lookup({ ...q, protocol: 'udp' }), undefined, 'the protocol is part of the key');
  watcher.close();
  watcher = undefined;
});

test('a namespace that does not exist is reported, not thrown into the agent', async () => {
  const errors: Error[] = [];
  const w = await startWatcher({ netnsPath: '/run/netns/sockeye-no-such-namespace', onError: (e) => errors.push(e) });
  assert.ok(await until(() => errors.length > 0, 3000));
  assert.match(errors[0]!.message, /relay .* exited/);
  assert.equal(w.lookup({ localAddress: CLIENT_IP, localPort: 1, remoteAddress: VIP, remotePort: VIP_PORT }), undefined);
  w.close();
});

test('tearing down removes every namespace the suite created', () => {
  watcher?.close();
  watcher = undefined;
  topo.destroy();
  const names = execFileSync('ip', ['netns', 'list']).toString();
  for (const ns of [topo.node, topo.client, topo.server]) assert.ok(!names.includes(ns), `${ns} still exists`);
});
