// Real kernel, real traffic: a node:http server in a child process, curl (sendto/recvfrom) and a
// node:http client (write/writev) against it on loopback. Checks what a user of `sockeye trace`
// would check: both sides' request/response events, pid, role, 4-tuple, true byte counts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataEvent } from '../../agent/capture/capture-events.js';
import { DEFAULT_PAYLOAD_CAP } from '../../agent/capture/event-names.js';
import { firstLine, peerPath, Recorder, run, startPeer, startServer, stopPeer, type Peer } from './helpers/capture-helpers.js';

let rec: Recorder;
const peers: Peer[] = [];

before(() => { rec = Recorder.open(); });
after(() => { peers.forEach(stopPeer); rec?.close(); });

const sum = (evs: DataEvent[]) => evs.reduce((n, e) => n + e.totalBytes, 0);

test('curl → node:http: request and response on both sides with pid, role, tuple and lengths', async () => {
  const server = await startServer('http-server', ['127.0.0.1']);
  peers.push(server);
  const curl = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{size_request} %{size_download}', `http://127.0.0.1:${server.port}/one`]);
  assert.equal(curl.code, 0);
  const [status, sizeRequest, sizeDownload] = curl.stdout.split(' ').map(Number);
  assert.equal(status, 200);
  assert.ok(await rec.until(() => rec.data(curl.pid).filter((e) => e.direction === 'ingress').length > 0 &&
    rec.data(server.pid).some((e) => e.direction === 'egress')), 'events for curl and the server arrived');

  const c = rec.of(curl.pid);
  const connect = c.find((e) => e.kind === 'connect');
  assert.ok(connect, 'curl connect event');
  assert.equal(connect.role, 'client');
  const cData = rec.data(curl.pid);
  const req = cData.find((e) => e.direction === 'egress')!;
  assert.equal(firstLine(req), 'GET /one HTTP/1.1');
  assert.equal(req.syscall, 'sendto');
  assert.equal(req.role, 'client');
  assert.equal(req.protocol, 'http1');
  assert.equal(req.process.comm, 'curl');
  assert.deepEqual([req.tuple.family, req.tuple.transport, req.tuple.localAddr, req.tuple.remoteAddr, req.tuple.remotePort],
    [4, 'tcp', '127.0.0.1', '127.0.0.1', server.port]);
  assert.equal(req.totalBytes, sizeRequest);
  assert.equal(req.bytes.length, req.totalBytes);
  const resp = cData.filter((e) => e.direction === 'ingress');
  assert.match(firstLine(resp[0]!), /^HTTP\/1\.1 200 OK$/);
  assert.equal(resp[0]!.syscall, 'recvfrom');
  assert.ok(sum(resp) > sizeDownload!, 'response bytes include headers and body');

  const sData = rec.data(server.pid).filter((e) => e.connId !== undefined && e.tuple.remotePort === req.tuple.localPort);
  const sReq = sData.filter((e) => e.direction === 'ingress');
  const sResp = sData.filter((e) => e.direction === 'egress');
  assert.equal(firstLine(sReq[0]!), 'GET /one HTTP/1.1');
  assert.equal(sReq[0]!.role, 'server');
  assert.equal(sReq[0]!.tuple.localPort, server.port);
  assert.equal(sum(sReq), req.totalBytes, 'server read exactly what curl sent');
  assert.equal(sResp[0]!.syscall, 'writev', 'node answers with writev');
  assert.equal(sResp[0]!.role, 'server');
  assert.equal(sum(sResp), sum(resp), 'curl received exactly what the server wrote');
  assert.ok(rec.of(server.pid).some((e) => e.kind === 'accept' && e.role === 'server'));
  assert.ok(c.some((e) => e.kind === 'close'), 'curl close event');
});

test('node:http client keep-alive: several requests on one connection, contiguous offsets, no gaps', async () => {
  const server = await startServer('http-server', ['127.0.0.1']);
  peers.push(server);
  const client = await run(peerPath('http-client'), [`http://127.0.0.1:${server.port}/ka`, '5']);
  assert.equal(client.stdout.trim(), 'done');
  assert.ok(await rec.until(() => rec.data(client.pid).filter((e) => e.direction === 'ingress').length >= 5));
  const cd = rec.data(client.pid);
  const requests = cd.filter((e) => e.direction === 'egress' && /^GET \/ka/.test(firstLine(e)));
  assert.equal(requests.length, 5);
  assert.equal(new Set(cd.map((e) => e.connId)).size, 1, 'one connection');
  assert.ok(cd.every((e) => e.role === 'client' && e.protocol === 'http1'));
  for (const dir of ['egress', 'ingress'] as const) {
    let next = 0;
    for (const e of cd.filter((x) => x.direction === dir)) { assert.equal(e.offset, next, `${dir} offset`); next += e.totalBytes; }
  }
  assert.equal(rec.of(client.pid).filter((e) => e.kind === 'gap').length, 0);
  assert.ok(await rec.until(() => rec.data(server.pid).filter((e) => e.direction === 'egress' && e.tuple.remotePort === cd[0]!.tuple.localPort).length >= 5));
  const sd = rec.data(server.pid).filter((e) => e.tuple.remotePort === cd[0]!.tuple.localPort);
  assert.equal(sd.filter((e) => e.direction === 'ingress' && /^GET \/ka/.test(firstLine(e))).length, 5);
  assert.ok(sd.every((e) => e.role === 'server'));
});

test('IPv6 loopback: family 6 and ::1 on both ends', async () => {
  const server = await startServer('http-server', ['::1']);
  peers.push(server);
  const curl = await run('curl', ['-s', '-o', '/dev/null', '-g', `http://[::1]:${server.port}/six`]);
  assert.equal(curl.code, 0);
  assert.ok(await rec.until(() => rec.data(curl.pid).some((e) => e.direction === 'ingress')));
  const req = rec.data(curl.pid).find((e) => e.direction === 'egress')!;
  assert.equal(firstLine(req), 'GET /six HTTP/1.1');
  assert.deepEqual([req.tuple.family, req.tuple.localAddr, req.tuple.remoteAddr, req.tuple.remotePort], [6, '::1', '::1', server.port]);
  assert.ok(await rec.until(() => rec.data(server.pid).some((e) => e.direction === 'egress')));
  assert.equal(rec.data(server.pid)[0]!.tuple.localAddr, '::1');
});

test('a body larger than the copy cap: true lengths reported, payload capped', async () => {
  const server = await startServer('http-server', ['127.0.0.1']);
  peers.push(server);
  const size = 200_000;
  const curl = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{size_download}', `http://127.0.0.1:${server.port}/size/${size}`]);
  assert.equal(Number(curl.stdout), size);
  const recvd = () => rec.data(curl.pid).filter((e) => e.direction === 'ingress');
  assert.ok(await rec.until(() => sum(recvd()) > size), 'all response bytes accounted for');
  const resp = recvd();
  assert.ok(resp.some((e) => e.totalBytes > e.bytes.length), 'some syscall moved more than the cap');
  assert.ok(resp.every((e) => e.bytes.length <= DEFAULT_PAYLOAD_CAP && e.bytes.length === Math.min(e.totalBytes, DEFAULT_PAYLOAD_CAP)));
  const sent = rec.data(server.pid).filter((e) => e.direction === 'egress' && e.tuple.remotePort === resp[0]!.tuple.localPort);
  assert.ok(await rec.until(() => sum(rec.data(server.pid).filter((e) => e.direction === 'egress' && e.tuple.remotePort === resp[0]!.tuple.localPort)) === sum(resp)));
  assert.ok(sent.length > 0);
  assert.match(firstLine(sent[0]!), /^HTTP\/1\.1 200/);
});

test('a client killed with SIGKILL (no close() call): its connection still ends with a close event', async () => {
  const server = await startServer('http-server', ['127.0.0.1']);
  peers.push(server);
  const client = startPeer(peerPath('http-client'), [`http://127.0.0.1:${server.port}/killed`, '2', '1']);
  peers.push(client);
  await client.waitLine('first-done');
  assert.ok(await rec.until(() => rec.data(client.pid).some((e) => e.direction === 'ingress')));
  const connId = rec.data(client.pid)[0]!.connId;
  client.child.kill('SIGKILL');
  assert.ok(await rec.until(() => rec.events.some((e) => e.kind === 'close' && e.connId === connId)),
    'close reported from the socket state change');
  const close = rec.events.find((e) => e.kind === 'close' && e.connId === connId)!;
  assert.equal(close.process.pid, client.pid);
  assert.equal(close.role, 'client');
  assert.equal(close.tuple.remotePort, server.port);
});

test('load-time fallbacks (fd table slot read with bpf_probe_read_kernel, as on 6.12): the same exchange is captured', async () => {
  const fallback = Recorder.open({ forceFallbacks: true });
  try {
    const server = await startServer('http-server', ['127.0.0.1']);
    peers.push(server);
    const curl = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${server.port}/fallback`]);
    assert.equal(curl.code, 0);
    assert.ok(await fallback.until(() => fallback.data(curl.pid).some((e) => e.direction === 'ingress') &&
      fallback.data(server.pid).some((e) => e.direction === 'egress')), 'events of both sides through the fallback path');
    const req = fallback.data(curl.pid).find((e) => e.direction === 'egress')!;
    assert.equal(firstLine(req), 'GET /fallback HTTP/1.1');
    assert.equal(req.protocol, 'http1');
    assert.equal(req.tuple.remotePort, server.port);
    assert.equal(firstLine(fallback.data(server.pid).find((e) => e.direction === 'ingress')!), 'GET /fallback HTTP/1.1');
  } finally {
    fallback.close();
  }
});
