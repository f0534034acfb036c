// Real kernel, real traffic on loopback through the syscalls the other capture tests do not drive:
// readv, sendmsg, recvmsg, sendmmsg, recvmmsg (and writev with several iovecs), from a small C peer
// (test/fixtures/peers/syscall-peer.c, compiled here into a temp dir). The peer runs the server on
// its main thread and the client on a second thread, and prints one JSON line with its pid, tids,
// fds, ports and the exact bytes it moved; the events must agree with it: syscall names, protocol,
// role, true byte counts, payloads holding the bytes of EVERY iovec (not just the first), one event
// per mmsg message, tuples, IPv4-mapped addresses of a dual-stack socket, and tid/fd/comm.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptureEvent, DataEvent } from '../../agent/capture/capture-events.js';
import { Recorder, startPeer, stopPeer, text, type Peer } from './helpers/capture-helpers.js';

const source = fileURLToPath(new URL('../../../test/fixtures/peers/syscall-peer.c', import.meta.url));
const compiler = ['cc', 'clang'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
const skip = process.getuid?.() !== 0 ? 'needs root to load the BPF programs'
  : compiler === undefined ? 'no C compiler (cc or clang) to build test/fixtures/peers/syscall-peer.c'
  : false;

let rec: Recorder | undefined;
let tmp: string | undefined;
let peerBin = '';
const peers: Peer[] = [];
const extraRecorders: Recorder[] = [];

before(() => {
  if (skip) return;
  tmp = mkdtempSync(join(tmpdir(), 'sockeye-syscall-peer-'));
  peerBin = join(tmp, 'syscall-peer');
  execFileSync(compiler!, ['-O1', '-Wall', '-pthread', '-o', peerBin, source], { stdio: ['ignore', 'inherit', 'inherit'] });
  rec = Recorder.open();
});
after(() => {
  for (const p of peers) {
    stopPeer(p);
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
  rec?.close();
  for (const r of extraRecorders) r.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs the peer in one mode to completion and returns the JSON it printed. */
async function runPeer<T>(mode: string): Promise<T & { pid: number }> {
  const p = startPeer(peerBin, [mode]);
  peers.push(p);
  const line = await p.waitLine('{', 15_000);
  const info = JSON.parse(line) as T & { pid: number };
  assert.equal(info.pid, p.pid, 'the peer reports its own pid');
  return info;
}

const hex = (h: string) => Buffer.from(h, 'hex');
const sum = (evs: DataEvent[]) => evs.reduce((n, e) => n + e.totalBytes, 0);
const joined = (evs: DataEvent[]) => Buffer.concat(evs.map((e) => Buffer.from(e.bytes)));
const show = (evs: CaptureEvent[]) => JSON.stringify(evs.map((e) => [e.kind, e.kind === 'data' ? `${e.direction} ${e.syscall} ${e.totalBytes}B` : '',
  e.role, e.protocol, `tid=${e.process.tid} fd=${e.fd}`, `${e.tuple.localAddr}:${e.tuple.localPort}->${e.tuple.remoteAddr}:${e.tuple.remotePort}`]));

/** Events of one socket, told apart by its ports (not by fd or tid: those are what is checked). */
function side(pid: number, localPort: number, remotePort?: number, r: Recorder = rec!): CaptureEvent[] {
  return r.of(pid).filter((e) => e.tuple.localPort === localPort && (remotePort === undefined || e.tuple.remotePort === remotePort));
}
const dataOf = (evs: CaptureEvent[], direction: 'egress' | 'ingress') =>
  evs.filter((e): e is DataEvent => e.kind === 'data' && e.direction === direction);

/** tid, fd and pid of every event of a socket are those of the thread and fd that used it; comm is its process's name. */
function assertIdentity(evs: CaptureEvent[], who: string, want: { pid: number; tid: number; fd: number; comm: string }): void {
  assert.ok(evs.length > 0, `${who}: no events`);
  for (const e of evs) {
    assert.deepEqual({ pid: e.process.pid, tid: e.process.tid, fd: e.fd, comm: e.process.comm }, want,
      `${who}: ${e.kind} event identity vs the peer's own getpid/gettid/fd/process name`);
  }
}

/** Offsets of one direction of a connection start at 0 and tile the stream. */
function assertContiguous(evs: DataEvent[], who: string): void {
  let next = 0;
  for (const e of evs) { assert.equal(e.offset, next, `${who}: offset`); next += e.totalBytes; }
}

interface VecInfo {
  serverTid: number; clientTid: number; listenFd: number; serverFd: number; clientFd: number; port: number; clientPort: number;
  readvCalls: number; recvmsgCalls: number; requestIov: number[]; responseIov: number[];
  request: string; serverRead: string; response: string; clientRead: string;
  staleAfter?: string; namelenAfter?: number;
}

test('TCP HTTP/1.1: writev of 3 iovecs, readv into 2, sendmsg of 2, recvmsg into 2 — every iovec captured, tid/fd/tuple right', { skip }, async () => {
  const p = await runPeer<VecInfo>('vec');
  const request = hex(p.request), response = hex(p.response);
  assert.deepEqual(hex(p.serverRead), request, 'peer: the server read what the client wrote');
  assert.deepEqual(hex(p.clientRead), response, 'peer: the client read what the server sent');
  assert.notEqual(p.clientTid, p.pid, 'the client runs on its own thread');
  assert.ok(await rec!.until(() => sum(dataOf(side(p.pid, p.port), 'ingress')) >= request.length &&
    sum(dataOf(side(p.pid, p.clientPort), 'ingress')) >= response.length), 'events of both sides arrived');

  const client = side(p.pid, p.clientPort);
  const server = side(p.pid, p.port, p.clientPort);
  // comm is the process's (thread-group leader's) name, not the client thread's own 'sc-client'.
  assertIdentity(client, 'client', { pid: p.pid, tid: p.clientTid, fd: p.clientFd, comm: 'syscall-peer' });
  assertIdentity(server, 'server', { pid: p.pid, tid: p.serverTid, fd: p.serverFd, comm: 'syscall-peer' });
  assert.equal(p.serverTid, p.pid);
  assert.ok(client.some((e) => e.kind === 'connect' && e.role === 'client'), `client connect: ${show(client)}`);
  assert.ok(server.some((e) => e.kind === 'accept' && e.role === 'server'), `server accept: ${show(server)}`);
  for (const e of client) {
    assert.deepEqual([e.tuple.family, e.tuple.transport, e.tuple.localAddr, e.tuple.localPort, e.tuple.remoteAddr, e.tuple.remotePort],
      [4, 'tcp', '127.0.0.1', p.clientPort, '127.0.0.1', p.port], `client ${e.kind} tuple`);
  }
  for (const e of server) {
    assert.deepEqual([e.tuple.family, e.tuple.transport, e.tuple.localAddr, e.tuple.localPort, e.tuple.remoteAddr, e.tuple.remotePort],
      [4, 'tcp', '127.0.0.1', p.port, '127.0.0.1', p.clientPort], `server ${e.kind} tuple`);
  }

  // Client request: ONE writev of 3 iovecs (request line / headers / body).
  const [line, headers, body] = [
    request.subarray(0, p.requestIov[0]), request.subarray(p.requestIov[0], p.requestIov[0]! + p.requestIov[1]!),
    request.subarray(p.requestIov[0]! + p.requestIov[1]!),
  ];
  const sent = dataOf(client, 'egress');
  assert.equal(sent.length, 1, `one writev, one event: ${show(sent)}`);
  const w = sent[0]!;
  assert.deepEqual([w.syscall, w.protocol, w.role, w.totalBytes], ['writev', 'http1', 'client', request.length]);
  assert.ok(Buffer.from(w.bytes).includes(line), 'writev payload holds iovec 1 (request line)');
  assert.ok(Buffer.from(w.bytes).includes(headers),
    `writev payload must hold iovec 2 (headers, ${headers.length} B); captured ${w.bytes.length} B: ${JSON.stringify(text(w))}`);
  assert.ok(Buffer.from(w.bytes).includes(body),
    `writev payload must hold iovec 3, the LAST one (body, ${body.length} B); captured ${w.bytes.length} B: ${JSON.stringify(text(w))}`);
  assert.deepEqual(Buffer.from(w.bytes), request, 'writev payload is the 3 iovecs back to back');

  // Server request: readv into 2 iovecs (20 B + 4096 B), so the request spans both.
  const read = dataOf(server, 'ingress');
  assert.equal(read.length, p.readvCalls, `one event per readv call: ${show(read)}`);
  assert.ok(read.every((e) => e.syscall === 'readv' && e.protocol === 'http1' && e.role === 'server'), show(read));
  assert.equal(sum(read), request.length, 'readv totalBytes add up to what was written');
  assert.deepEqual(joined(read), request,
    `readv payloads must hold the bytes landed in BOTH iovecs (the first is 20 B); got ${JSON.stringify(joined(read).toString('latin1'))}`);
  assertContiguous(read, 'server ingress');

  // Server response: ONE sendmsg of 2 iovecs (head / body).
  const head = response.subarray(0, p.responseIov[0]), rbody = response.subarray(p.responseIov[0]);
  const answered = dataOf(server, 'egress');
  assert.equal(answered.length, 1, show(answered));
  const s = answered[0]!;
  assert.deepEqual([s.syscall, s.protocol, s.role, s.totalBytes], ['sendmsg', 'http1', 'server', response.length]);
  assert.ok(Buffer.from(s.bytes).includes(head), 'sendmsg payload holds iovec 1 (head)');
  assert.ok(Buffer.from(s.bytes).includes(rbody),
    `sendmsg payload must hold iovec 2, the LAST one (body, ${rbody.length} B); captured ${s.bytes.length} B: ${JSON.stringify(text(s))}`);
  assert.deepEqual(Buffer.from(s.bytes), response);

  // Client response: recvmsg into 2 iovecs (10 B + 4096 B).
  const got = dataOf(client, 'ingress');
  assert.equal(got.length, p.recvmsgCalls, `one event per recvmsg call: ${show(got)}`);
  assert.ok(got.every((e) => e.syscall === 'recvmsg' && e.protocol === 'http1' && e.role === 'client'), show(got));
  assert.equal(sum(got), response.length);
  assert.deepEqual(joined(got), response,
    `recvmsg payloads must hold the bytes landed in BOTH iovecs (the first is 10 B); got ${JSON.stringify(joined(got).toString('latin1'))}`);
  assertContiguous(got, 'client ingress');
  assertContiguous(sent, 'client egress');
});

test('payload cap inside the second iovec: writev/readv/recvmsg payloads are the first cap bytes of the stream, totalBytes stays true', { skip }, async () => {
  // A second capture with a 40-byte cap: the writev's first iovec is 27 B, so the cut falls inside
  // iovec 2; the readv's first iovec is 20 B and the recvmsg's 10 B, so theirs fall inside iovec 2 too.
  const cap = 40;
  const small = Recorder.open({ payloadCap: cap });
  extraRecorders.push(small);
  const p = await runPeer<VecInfo>('vec');
  const request = hex(p.request), response = hex(p.response);
  assert.ok(p.requestIov[0]! < cap && p.requestIov[0]! + p.requestIov[1]! > cap, 'the cut is inside the writev\'s iovec 2');
  assert.ok(await small.until(() => sum(dataOf(side(p.pid, p.port, undefined, small), 'ingress')) >= request.length &&
    sum(dataOf(side(p.pid, p.clientPort, undefined, small), 'ingress')) >= response.length), 'events of both sides arrived');
  const client = side(p.pid, p.clientPort, undefined, small);
  const server = side(p.pid, p.port, p.clientPort, small);
  for (const [who, evs, syscall, stream] of [
    ['client writev', dataOf(client, 'egress'), 'writev', request], ['server readv', dataOf(server, 'ingress'), 'readv', request],
    ['server sendmsg', dataOf(server, 'egress'), 'sendmsg', response], ['client recvmsg', dataOf(client, 'ingress'), 'recvmsg', response],
  ] as const) {
    assert.ok(evs.length > 0 && evs.every((e) => e.syscall === syscall), `${who}: ${show(evs)}`);
    assert.equal(sum(evs), stream.length, `${who}: totalBytes are the true lengths, not the cap`);
    for (const e of evs) {
      const want = stream.subarray(e.offset, e.offset + Math.min(cap, e.totalBytes));
      assert.deepEqual(Buffer.from(e.bytes), want,
        `${who} at offset ${e.offset}: payload must be the first ${want.length} bytes of that syscall, across its iovecs; got ${JSON.stringify(text(e))}`);
    }
  }
  small.close();
  extraRecorders.splice(extraRecorders.indexOf(small), 1);
});

test('TCP recvmsg with a stale msg_name buffer: the event keeps the real peer, not the untouched sockaddr', { skip }, async () => {
  const p = await runPeer<VecInfo>('stalename');
  // The kernel leaves msg_name alone on TCP and reports msg_namelen 0 — the buffer still holds
  // whatever the program had there (here 127.0.0.2:9).
  assert.equal(p.staleAfter, '127.0.0.2:9');
  assert.equal(p.namelenAfter, 0);
  const response = hex(p.response);
  assert.ok(await rec!.until(() => sum(dataOf(rec!.of(p.pid).filter((e) => e.fd === p.clientFd), 'ingress')) >= response.length));
  const got = dataOf(rec!.of(p.pid).filter((e) => e.fd === p.clientFd && e.process.tid === p.clientTid), 'ingress');
  assert.ok(got.length > 0 && got.every((e) => e.syscall === 'recvmsg'), show(got));
  for (const e of got) {
    assert.deepEqual([e.tuple.localPort, e.tuple.remoteAddr, e.tuple.remotePort], [p.clientPort, '127.0.0.1', p.port],
      `recvmsg on a connected TCP socket took its remote end from msg_name, which the kernel did not write ` +
      `(msg_namelen after the call: ${p.namelenAfter}); the BPF side should ignore msg_name when the returned msg_namelen is 0`);
  }
  assert.deepEqual(joined(got), response);
});

interface MmsgInfo {
  serverTid: number; clientTid: number; serverFd: number; clientFd: number; port: number; clientPort: number; clientAddr: string;
  serverRecvmmsgCalls: number; serverSendmmsgCalls: number; clientSendmmsgCalls: number; clientRecvmmsgCalls: number;
  queryIov: number[][]; answerIov: number[][]; serverSawPorts: number[];
  query0: string; query1: string; answer0: string; answer1: string; clientAnswer0: string; clientAnswer1: string;
}

test('DNS over UDP with sendmmsg/recvmmsg: one event per message, right lengths, every iovec, roles, tuples, tid/fd', { skip }, async () => {
  const p = await runPeer<MmsgInfo>('mmsg');
  const queries = [hex(p.query0), hex(p.query1)];
  const answers = [hex(p.answer0), hex(p.answer1)];
  assert.deepEqual([hex(p.clientAnswer0), hex(p.clientAnswer1)], answers, 'peer: the client got both answers');
  assert.deepEqual(p.serverSawPorts, [p.clientPort, p.clientPort]);
  assert.notEqual(queries[0]!.length, queries[1]!.length, 'the two messages differ in length');
  assert.notEqual(p.port, 53);
  // The client socket is unconnected and was bound by its first send: its local address is the
  // wildcard (getsockname says 0.0.0.0), which is what its events must show too.
  assert.equal(p.clientAddr, '0.0.0.0');
  assert.ok(await rec!.until(() => dataOf(side(p.pid, p.clientPort), 'ingress').length >= 2 &&
    dataOf(side(p.pid, p.port), 'ingress').length >= 2), 'events of both sides arrived');

  const client = side(p.pid, p.clientPort);
  const server = side(p.pid, p.port);
  // comm is the process's (thread-group leader's) name, not the client thread's own 'sc-client'.
  assertIdentity(client, 'client', { pid: p.pid, tid: p.clientTid, fd: p.clientFd, comm: 'syscall-peer' });
  assertIdentity(server, 'server', { pid: p.pid, tid: p.serverTid, fd: p.serverFd, comm: 'syscall-peer' });
  const tuple = (e: DataEvent) => [e.tuple.family, e.tuple.transport, e.tuple.localAddr, e.tuple.localPort, e.tuple.remoteAddr, e.tuple.remotePort];

  const cases = [
    ['client egress', dataOf(client, 'egress'), 'sendmmsg', 'client', queries, [4, 'udp', p.clientAddr, p.clientPort, '127.0.0.1', p.port], p.clientSendmmsgCalls],
    ['server ingress', dataOf(server, 'ingress'), 'recvmmsg', 'server', queries, [4, 'udp', '127.0.0.1', p.port, '127.0.0.1', p.clientPort], p.serverRecvmmsgCalls],
    ['server egress', dataOf(server, 'egress'), 'sendmmsg', 'server', answers, [4, 'udp', '127.0.0.1', p.port, '127.0.0.1', p.clientPort], p.serverSendmmsgCalls],
    ['client ingress', dataOf(client, 'ingress'), 'recvmmsg', 'client', answers, [4, 'udp', p.clientAddr, p.clientPort, '127.0.0.1', p.port], p.clientRecvmmsgCalls],
  ] as const;
  for (const [who, evs, syscall, role, msgs, wantTuple, calls] of cases) {
    assert.equal(calls, 1, `${who}: the peer moved both messages in one ${syscall} call`);
    assert.equal(evs.length, 2, `${who}: one event per message of the ${syscall}: ${show(evs)}`);
    evs.forEach((e, i) => {
      assert.deepEqual([e.syscall, e.protocol, e.role], [syscall, 'dns', role], `${who} message ${i}`);
      assert.equal(e.totalBytes, msgs[i]!.length, `${who} message ${i}: totalBytes is that message's length`);
      assert.deepEqual(tuple(e), wantTuple, `${who} message ${i}: tuple (remote end from msg_name)`);
    });
    assertContiguous(evs, who);
  }
  // Queries: header in iovec 1, question (the name) in iovec 2. Answers: header+question in iovec 1,
  // the answer RR (rdata 198.18.0.7 / .8) in iovec 2.
  const names = ['\x01a\x07sockeye\x04test', '\x0blonger-name\x04mmsg\x07sockeye\x04test'].map((n) => Buffer.from(n, 'latin1'));
  for (const [who, evs] of [['client egress', cases[0][1]], ['server ingress', cases[1][1]]] as const) {
    evs.forEach((e, i) => {
      assert.ok(Buffer.from(e.bytes).includes(names[i]!),
        `${who} message ${i}: payload must hold the question from the LAST iovec; got ${Buffer.from(e.bytes).toString('hex')}`);
      assert.deepEqual(Buffer.from(e.bytes), queries[i], `${who} message ${i}: payload is that query`);
    });
  }
  for (const [who, evs] of [['server egress', cases[2][1]], ['client ingress', cases[3][1]]] as const) {
    evs.forEach((e, i) => {
      assert.ok(Buffer.from(e.bytes).subarray(-4).equals(Buffer.from([198, 18, 0, 7 + i])),
        `${who} message ${i}: payload must end with the answer RR from the LAST iovec; got ${Buffer.from(e.bytes).toString('hex')}`);
      assert.deepEqual(Buffer.from(e.bytes), answers[i], `${who} message ${i}: payload is that answer`);
      assert.ok((e.bytes[2]! & 0x80) !== 0, 'QR bit set on the answer');
    });
  }
});

interface DualInfo {
  serverTid: number; clientTid: number; listenFd: number; port: number;
  conns: { serverFd: number; clientFd: number; clientPort: number; serverSawPeer: string; request: string; response: string }[];
}

test('dual-stack AF_INET6 server (IPV6_V6ONLY=0): an IPv4 client shows as family 4 / 127.0.0.1 on both sides, an IPv6 one as ::1', { skip }, async () => {
  const p = await runPeer<DualInfo>('dual');
  const [v4, v6] = p.conns as [DualInfo['conns'][0], DualInfo['conns'][0]];
  assert.equal(v4.serverSawPeer, '::ffff:127.0.0.1', 'peer: accept() on the dual-stack socket returned a v4-mapped address');
  assert.equal(v6.serverSawPeer, '::1');
  assert.ok(await rec!.until(() => [v4, v6].every((c) =>
    sum(dataOf(side(p.pid, p.port, c.clientPort), 'ingress')) >= hex(c.request).length &&
    sum(dataOf(side(p.pid, c.clientPort), 'ingress')) >= hex(c.response).length)), 'events of both connections arrived');

  for (const [name, c, family, addr] of [['IPv4 client', v4, 4, '127.0.0.1'], ['IPv6 client', v6, 6, '::1']] as const) {
    const request = hex(c.request), response = hex(c.response);
    const server = side(p.pid, p.port, c.clientPort);
    const client = side(p.pid, c.clientPort);
    assertIdentity(server, `${name}, server side`, { pid: p.pid, tid: p.serverTid, fd: c.serverFd, comm: 'syscall-peer' });
    assertIdentity(client, `${name}, client side`, { pid: p.pid, tid: p.clientTid, fd: c.clientFd, comm: 'syscall-peer' });
    // capture-events.ts / docs/capture.md: IPv4-mapped IPv6 sockets are reported as family 4 with plain IPv4 text.
    for (const e of server) {
      assert.deepEqual([e.tuple.family, e.tuple.transport, e.tuple.localAddr, e.tuple.localPort, e.tuple.remoteAddr, e.tuple.remotePort],
        [family, 'tcp', addr, p.port, addr, c.clientPort], `${name}, server side ${e.kind} tuple (the socket is AF_INET6)`);
    }
    for (const e of client) {
      assert.deepEqual([e.tuple.family, e.tuple.localAddr, e.tuple.remoteAddr, e.tuple.remotePort],
        [family, addr, addr, p.port], `${name}, client side ${e.kind} tuple`);
    }
    assert.ok(server.some((e) => e.kind === 'accept' && e.role === 'server'), `${name}: accept: ${show(server)}`);
    const sIn = dataOf(server, 'ingress'), sOut = dataOf(server, 'egress');
    const cOut = dataOf(client, 'egress'), cIn = dataOf(client, 'ingress');
    for (const [who, evs, syscall, role, bytes] of [
      ['server ingress', sIn, 'read', 'server', request], ['server egress', sOut, 'write', 'server', response],
      ['client egress', cOut, 'write', 'client', request], ['client ingress', cIn, 'read', 'client', response],
    ] as const) {
      assert.ok(evs.length > 0 && evs.every((e) => e.syscall === syscall && e.protocol === 'http1' && e.role === role),
        `${name}, ${who}: ${show(evs)}`);
      assert.equal(sum(evs), bytes.length, `${name}, ${who}: totalBytes`);
      assert.deepEqual(joined(evs), bytes, `${name}, ${who}: payload`);
    }
  }
});
