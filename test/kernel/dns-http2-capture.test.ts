// Real kernel, real traffic: DNS over UDP and TCP (dig against the test's own DNS servers on random,
// non-53 ports) and HTTP/2 cleartext with prior knowledge (node:http2), including connections that
// were opened and used before the capture started — they must be picked up with the right role.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelCapture } from '../../agent/capture/kernel-capture.js';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import { builtinParsers } from '../../agent/protocols/engine/builtin-parsers.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { firstLine, peerPath, Recorder, run, startPeer, startServer, stopPeer, type Peer } from './helpers/capture-helpers.js';

let rec: Recorder;
const peers: Peer[] = [];
// Started before the capture: used once, then again after the capture is attached.
let early1: { server: Peer & { port: number }; client: Peer };
let early2: { server: Peer & { port: number }; client: Peer };

before(async () => {
  const s1 = await startServer('http-server', ['127.0.0.1']);
  const c1 = startPeer(peerPath('http-client'), [`http://127.0.0.1:${s1.port}/early`, '3', '1']);
  const s2 = await startServer('http2-peers', ['server']);
  const c2 = startPeer(peerPath('http2-peers'), ['client', String(s2.port), '3', '1']);
  peers.push(s1, c1, s2, c2);
  early1 = { server: s1, client: c1 };
  early2 = { server: s2, client: c2 };
  await c1.waitLine('first-done');
  await c2.waitLine('first-done');
  rec = new Recorder(KernelCapture.open());
});
after(() => { peers.forEach(stopPeer); rec?.close(); });

test('DNS over UDP on a non-53 port: dig query and the server answer, right roles', async () => {
  const server = await startServer('dns-server');
  peers.push(server);
  assert.notEqual(server.port, 53);
  const dig = await run('dig', ['@127.0.0.1', '-p', String(server.port), '+tries=1', '+time=2', '+noedns', 'api.sockeye.test', 'A']);
  assert.match(dig.stdout, /198\.18\.0\.7/);
  assert.ok(await rec.until(() => rec.data(dig.pid).some((e) => e.direction === 'ingress') &&
    rec.data(server.pid).some((e) => e.direction === 'egress')));
  const q = rec.data(dig.pid).find((e) => e.direction === 'egress')!;
  assert.equal(q.protocol, 'dns');
  assert.equal(q.role, 'client');
  assert.equal(q.tuple.transport, 'udp');
  assert.equal(q.tuple.remotePort, server.port);
  assert.ok(Buffer.from(q.bytes).includes(Buffer.from('\x03api\x07sockeye\x04test', 'latin1')), 'query name in payload');
  const a = rec.data(dig.pid).find((e) => e.direction === 'ingress')!;
  assert.equal(a.protocol, 'dns');
  assert.ok((a.bytes[2]! & 0x80) !== 0, 'QR bit set on the answer');
  const sIn = rec.data(server.pid).find((e) => e.direction === 'ingress')!;
  const sOut = rec.data(server.pid).find((e) => e.direction === 'egress')!;
  assert.equal(sIn.role, 'server');
  assert.equal(sOut.role, 'server');
  assert.equal(sIn.tuple.localPort, server.port);
  // Unconnected UDP: the peer comes from the datagram's address, not the socket.
  assert.equal(sOut.tuple.remotePort, q.tuple.localPort);
  assert.equal(sIn.totalBytes, q.totalBytes);
});

test('DNS over TCP (dig +tcp): length-prefixed query and answer recognised in the kernel, right roles', async () => {
  const server = await startServer('dns-tcp-server');
  peers.push(server);
  const dig = await run('dig', ['@127.0.0.1', '-p', String(server.port), '+tcp', '+tries=1', '+time=2', '+noedns', 'tcp.sockeye.test', 'A']);
  assert.match(dig.stdout, /198\.18\.0\.7/);
  assert.ok(await rec.until(() => rec.data(dig.pid).some((e) => e.direction === 'ingress') &&
    rec.data(server.pid).some((e) => e.direction === 'egress')));
  const q = rec.data(dig.pid).find((e) => e.direction === 'egress')!;
  assert.equal(q.protocol, 'dns');
  assert.equal(q.role, 'client');
  assert.equal(q.tuple.transport, 'tcp');
  assert.equal(q.tuple.remotePort, server.port);
  const name = Buffer.from('\x03tcp\x07sockeye\x04test', 'latin1');
  assert.ok(Buffer.from(q.bytes).includes(name), 'query name in payload');
  const query = Buffer.from(q.bytes);
  assert.equal(query.readUInt16BE(0), q.totalBytes - 2, 'payload starts with the 2-byte length of the query');
  const a = rec.data(dig.pid).find((e) => e.direction === 'ingress')!;
  assert.equal(a.protocol, 'dns');
  assert.equal(a.role, 'client');
  assert.ok((a.bytes[4]! & 0x80) !== 0, 'QR bit set on the answer (after the length prefix)');
  const sIn = rec.data(server.pid).find((e) => e.direction === 'ingress')!;
  const sOut = rec.data(server.pid).find((e) => e.direction === 'egress')!;
  assert.equal(sIn.protocol, 'dns');
  assert.equal(sIn.role, 'server');
  assert.equal(sOut.role, 'server');
  assert.equal(sIn.tuple.localPort, server.port);
  assert.equal(sOut.tuple.remotePort, q.tuple.localPort);
});

test('HTTP/2 cleartext with prior knowledge: preface, frames and roles on both sides', async () => {
  const server = await startServer('http2-peers', ['server']);
  peers.push(server);
  const client = await run(peerPath('http2-peers'), ['client', String(server.port), '3']);
  assert.equal(client.stdout.trim(), 'done');
  assert.ok(await rec.until(() => rec.data(client.pid).some((e) => e.direction === 'ingress') &&
    rec.data(server.pid).some((e) => e.direction === 'egress')));
  const cd = rec.data(client.pid);
  assert.ok(cd.every((e) => e.protocol === 'http2' && e.role === 'client'), JSON.stringify(cd.map((e) => [e.protocol, e.role, e.direction, e.syscall, e.totalBytes, e.tuple.remotePort])));
  assert.ok(cd.some((e) => e.direction === 'egress' && Buffer.from(e.bytes).toString('latin1').startsWith('PRI * HTTP/2.0')), 'client preface');
  const sd = rec.data(server.pid);
  assert.ok(sd.every((e) => e.protocol === 'http2' && e.role === 'server'));
  const toSum = (dir: string, evs: typeof cd) => evs.filter((e) => e.direction === dir).reduce((n, e) => n + e.totalBytes, 0);
  assert.ok(await rec.until(() => toSum('egress', rec.data(client.pid)) === toSum('ingress', rec.data(server.pid))));
});

test('HTTP/1.1 connection opened before the capture: picked up mid-stream with the right roles', async () => {
  early1.client.child.stdin!.write('go\n');
  await early1.client.waitLine('done');
  assert.ok(await rec.until(() => rec.data(early1.client.pid).filter((e) => e.direction === 'ingress').length >= 2 &&
    rec.data(early1.server.pid).filter((e) => e.direction === 'egress').length >= 2));
  const cd = rec.data(early1.client.pid);
  assert.ok(!rec.of(early1.client.pid).some((e) => e.kind === 'connect'), 'no connect was seen: truly mid-stream');
  assert.ok(cd.some((e) => e.direction === 'egress' && firstLine(e).startsWith('GET /early?i=')));
  assert.ok(cd.every((e) => e.role === 'client' && e.protocol === 'http1'), JSON.stringify(cd.map((e) => e.role)));
  const sd = rec.data(early1.server.pid);
  assert.ok(sd.every((e) => e.role === 'server' && e.protocol === 'http1'), JSON.stringify(sd.map((e) => e.role)));
  assert.equal(sd[0]!.tuple.localPort, early1.server.port);
});

test('HTTP/2 connection opened before the capture: frames recognised mid-stream, right roles', async () => {
  early2.client.child.stdin!.write('go\n');
  await early2.client.waitLine('done');
  assert.ok(await rec.until(() => rec.data(early2.client.pid).some((e) => e.direction === 'ingress') &&
    rec.data(early2.server.pid).some((e) => e.direction === 'egress')));
  const cd = rec.data(early2.client.pid);
  assert.ok(!cd.some((e) => Buffer.from(e.bytes).toString('latin1').startsWith('PRI *')), 'the preface was sent before the capture');
  assert.ok(cd.every((e) => e.protocol === 'http2'));
  assert.ok(cd.every((e) => e.role === 'client' || e.role === 'unknown'));
  assert.ok(cd.some((e) => e.role === 'client'), `client role inferred: ${JSON.stringify(cd.map((e) => e.role))}`);
  const sd = rec.data(early2.server.pid);
  assert.ok(sd.every((e) => e.role === 'server' || e.role === 'unknown'));
  assert.ok(sd.some((e) => e.role === 'server'), `server role inferred: ${JSON.stringify(sd.map((e) => e.role))}`);
  // Where the kernel could not tell (events with role 'unknown'), the protocol engine must: every
  // exchange of the picked-up connection comes out with its side, or its spans would be dropped.
  for (const [pid, role] of [[early2.client.pid, 'client'], [early2.server.pid, 'server']] as const) {
    const txs: Transaction[] = [];
    new ProtocolEngine({}, (tx) => txs.push(tx), builtinParsers()).push(rec.of(pid));
    assert.ok(txs.length >= 1, `${role}: no transaction from the picked-up connection`);
    assert.deepEqual([...new Set(txs.map((t) => t.role))], [role], `${role} side: ${JSON.stringify(txs.map((t) => [t.role, t.http?.request.path]))}`);
  }
});
