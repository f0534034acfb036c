#!/usr/bin/env node
// Records real HTTP/2, gRPC and DNS byte streams as test fixtures for the protocol engine.
// Everything runs on loopback: real node:http2 and @grpc/grpc-js clients and servers talk through a
// small TCP proxy that logs every chunk it reads in each direction (the bytes the sockets carried,
// in order); dig queries a node:dgram / node:net DNS server of this script on a non-53 port, whose
// socket reads and writes are logged as they happen.
// Usage: node scripts/record-fixtures/record-http2-grpc-dns.js   (rewrites test/fixtures/protocols/{http2,grpc,dns})
import http2 from 'node:http2';
import net from 'node:net';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { once } from 'node:events';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const dnsPacket = require('dns-packet');
const run = promisify(execFile);
const root = new URL('../../test/fixtures/protocols/', import.meta.url).pathname;

/** Listens on an ephemeral loopback port and forwards to `target`, logging each chunk read. */
async function recordingProxy(targetPort) {
  const chunks = [];
  const server = net.createServer((down) => {
    const up = net.connect(targetPort, '127.0.0.1');
    down.on('data', (b) => { chunks.push({ dir: 'c2s', hex: b.toString('hex') }); up.write(b); });
    up.on('data', (b) => { chunks.push({ dir: 's2c', hex: b.toString('hex') }); down.write(b); });
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
    down.on('error', () => {}); up.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: server.address().port, chunks, close: () => new Promise((r) => server.close(r)) };
}

function save(area, name, fixture) {
  mkdirSync(root + area, { recursive: true });
  writeFileSync(`${root}${area}/${name}.json`, JSON.stringify(fixture, null, 1) + '\n');
  console.log(`recorded ${area}/${name}.json: ${fixture.chunks.length} chunks`);
}

// ---------------------------------------------------------------- HTTP/2 (node:http2)
async function recordHttp2(name, description, serverOpts, clientOpts, drive) {
  const server = http2.createServer(serverOpts);
  server.on('stream', (stream, headers) => {
    const path = headers[':path'];
    stream.on('error', () => {});
    if (path.startsWith('/slow')) { setTimeout(() => { if (!stream.destroyed) stream.respond({ ':status': 200 }); stream.end?.('late'); }, 300); return; }
    const body = [];
    stream.on('data', (d) => body.push(d));
    stream.on('end', () => {
      if (path.startsWith('/missing')) { stream.respond({ ':status': 404, 'content-type': 'text/plain' }); stream.end('not here'); return; }
      const text = `hello ${path} (${Buffer.concat(body).length} bytes in)`;
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-served-by': 'fixture-recorder' });
      stream.end(path.startsWith('/big') ? 'x'.repeat(70000) : text);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const proxy = await recordingProxy(server.address().port);
  const client = http2.connect(`http://127.0.0.1:${proxy.port}`, clientOpts);
  client.on('error', () => {});
  const request = (headers, body) => new Promise((resolve) => {
    const req = client.request(headers);
    req.on('response', () => {});
    req.on('data', () => {});
    req.on('end', resolve); req.on('close', resolve); req.on('error', resolve);
    req.end(body);
  });
  await drive(client, request);
  await new Promise((r) => setTimeout(r, 100));
  client.close();
  await new Promise((r) => setTimeout(r, 100));
  await proxy.close(); server.close();
  save('http2', name, { description, transport: 'tcp', clientDir: 'c2s', chunks: proxy.chunks });
}

// ---------------------------------------------------------------- gRPC (@grpc/grpc-js, raw bytes)
const echoDef = {
  Say: {
    path: '/sockeye.test.v1.Echo/Say', requestStream: false, responseStream: false,
    requestSerialize: (b) => b, requestDeserialize: (b) => b,
    responseSerialize: (b) => b, responseDeserialize: (b) => b,
  },
};

async function recordGrpc(name, description, drive) {
  const server = new grpc.Server();
  server.addService(echoDef, {
    Say: (call, cb) => {
      const text = call.request.toString();
      if (text.startsWith('missing')) cb({ code: grpc.status.NOT_FOUND, details: 'no such thing: ünïcode & spaces' });
      else if (text.startsWith('slow')) setTimeout(() => cb(null, Buffer.from('late')), 500);
      else cb(null, Buffer.from(`echo ${text}`));
    },
  });
  const port = await new Promise((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => e ? rej(e) : res(p)));
  const proxy = await recordingProxy(port);
  const Client = grpc.makeGenericClientConstructor(echoDef, 'Echo');
  const client = new Client(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure());
  const say = (text, opts = {}) => new Promise((resolve) => client.Say(Buffer.from(text), new grpc.Metadata(), opts, (err, res) => resolve(err ?? res)));
  await drive(say, client);
  await new Promise((r) => setTimeout(r, 100));
  client.close();
  await new Promise((r) => setTimeout(r, 100));
  await proxy.close();
  await new Promise((r) => server.tryShutdown(r));
  save('grpc', name, { description, transport: 'tcp', clientDir: 'c2s', chunks: proxy.chunks });
}

// ---------------------------------------------------------------- DNS (dig against our own server)
function answerFor(query) {
  const q = query.questions[0];
  const base = { id: query.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: query.questions };
  // dns-packet takes the rcode from the low 4 bits of flags (3 = NXDOMAIN).
  if (q.name === 'missing.sockeye.test') return { ...base, flags: base.flags | 3, answers: [] };
  if (q.name === 'big.sockeye.test') return { ...base, flags: base.flags | dnsPacket.TRUNCATED_RESPONSE, answers: [] };
  if (q.name === 'alias.sockeye.test') {
    return { ...base, answers: [
      { type: 'CNAME', name: q.name, ttl: 60, data: 'web.sockeye.test' },
      { type: 'A', name: 'web.sockeye.test', ttl: 60, data: '198.18.0.10' },
    ] };
  }
  if (q.type === 'AAAA') return { ...base, answers: [{ type: 'AAAA', name: q.name, ttl: 30, data: '2001:db8::10' }] };
  if (q.type === 'TXT') return { ...base, answers: [{ type: 'TXT', name: q.name, ttl: 30, data: ['v=fixture'] }] };
  return { ...base, answers: [{ type: 'A', name: q.name, ttl: 300, data: '198.18.0.10' }, { type: 'A', name: q.name, ttl: 300, data: '198.18.0.11' }] };
}

async function recordDns() {
  const chunks = [];
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    chunks.push({ dir: 'c2s', hex: msg.toString('hex'), peer: `${rinfo.address}:${rinfo.port}` });
    const q = dnsPacket.decode(msg);
    if (q.questions[0].name === 'silent.sockeye.test') return; // never answered: a timeout
    const out = dnsPacket.encode(answerFor(q));
    chunks.push({ dir: 's2c', hex: out.toString('hex'), peer: `${rinfo.address}:${rinfo.port}` });
    udp.send(out, rinfo.port, rinfo.address);
  });
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  const port = udp.address().port;
  // dig runs asynchronously: this process must stay free to answer.
  const dig = async (...args) => { try { await run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=1', ...args]); } catch { /* timeouts are part of the fixture */ } };
  await dig('web.sockeye.test', 'A');
  await dig('web.sockeye.test', 'AAAA');
  await dig('alias.sockeye.test', 'A');
  await dig('missing.sockeye.test', 'A');
  await dig('web.sockeye.test', 'TXT');
  await dig('big.sockeye.test', 'A', '+ignore'); // TC bit set; +ignore: dig does not retry over TCP
  await dig('silent.sockeye.test', 'A');
  udp.close();
  save('dns', 'dig-udp', { description: 'dig over UDP against a node:dgram server: A, AAAA, CNAME chain, NXDOMAIN, TXT, a truncated (TC) answer, one unanswered query; datagrams as the server socket saw them', transport: 'udp', clientDir: 'c2s', chunks });

  // TCP: 2-byte length framing, dig +tcp (one connection per query) and +keepopen (several on one).
  const tcpChunks = [];
  const tcp = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (b) => {
      tcpChunks.push({ dir: 'c2s', hex: b.toString('hex') });
      buf = Buffer.concat([buf, b]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const out = dnsPacket.streamEncode(answerFor(dnsPacket.decode(msg)));
        tcpChunks.push({ dir: 's2c', hex: out.toString('hex') });
        sock.write(out);
      }
    });
    sock.on('error', () => {});
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  const tport = tcp.address().port;
  try {
    await run('dig', ['@127.0.0.1', '-p', String(tport), '+tcp', '+keepopen', '+tries=1', '+time=2',
      'web.sockeye.test', 'A', 'alias.sockeye.test', 'A', 'missing.sockeye.test', 'A']);
  } catch { /* recorded anyway */ }
  await new Promise((r) => setTimeout(r, 100));
  tcp.close();
  save('dns', 'dig-tcp-keepopen', { description: 'dig +tcp +keepopen: three queries on one TCP connection with 2-byte length framing, as the server socket read and wrote them', transport: 'tcp', clientDir: 'c2s', chunks: tcpChunks });
}

// ---------------------------------------------------------------- scenarios
await recordHttp2('node-get-post-404', 'node:http2 client: GET with query and traceparent, POST with a body, a 404, the same headers again (dynamic-table references), one 70 kB response (DATA over several frames)', {}, {}, async (client, request) => {
  await request({ ':method': 'GET', ':path': '/hello?name=sockeye', 'user-agent': 'fixture-recorder/1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=1' });
  await request({ ':method': 'POST', ':path': '/submit', 'content-type': 'application/json', 'content-length': '25', 'user-agent': 'fixture-recorder/1' }, '{"fixture":"post","n":1}\n');
  await request({ ':method': 'GET', ':path': '/missing', 'user-agent': 'fixture-recorder/1' });
  await request({ ':method': 'GET', ':path': '/hello?name=sockeye', 'user-agent': 'fixture-recorder/1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=1' });
  await request({ ':method': 'GET', ':path': '/big', 'user-agent': 'fixture-recorder/1' });
});
await recordHttp2('node-concurrent', 'node:http2 client: 8 concurrent GETs on one connection (interleaved streams)', {}, {}, async (client, request) => {
  await Promise.all(Array.from({ length: 8 }, (_, i) => request({ ':method': 'GET', ':path': `/item/${i}`, 'x-request-index': String(i) })));
});
await recordHttp2('node-padded-continuation', 'node:http2 with maximum padding on both sides and a 20 kB request header (HEADERS + CONTINUATION)', { paddingStrategy: http2.constants.PADDING_STRATEGY_MAX }, { paddingStrategy: http2.constants.PADDING_STRATEGY_MAX }, async (client, request) => {
  await request({ ':method': 'GET', ':path': '/padded', 'x-large': 'L'.repeat(20000) });
  await request({ ':method': 'POST', ':path': '/padded-post' }, 'p'.repeat(3000));
});
await recordHttp2('node-reset', 'node:http2 client cancels a slow request (RST_STREAM CANCEL) and then makes a normal one', {}, {}, async (client, request) => {
  const req = client.request({ ':method': 'GET', ':path': '/slow' });
  req.on('error', () => {});
  req.end();
  await new Promise((r) => setTimeout(r, 50));
  req.close(http2.constants.NGHTTP2_CANCEL);
  await new Promise((r) => setTimeout(r, 50));
  await request({ ':method': 'GET', ':path': '/after-reset' });
});
await recordGrpc('grpc-unary-ok-error', 'grpc-js unary calls: OK, NOT_FOUND with a percent-encoded message (Trailers-Only), OK again (dynamic-table references)', async (say) => {
  await say('hello');
  await say('missing thing');
  await say('hello again');
});
await recordGrpc('grpc-concurrent', 'grpc-js: 10 concurrent unary calls on one connection', async (say) => {
  await Promise.all(Array.from({ length: 10 }, (_, i) => say(`call ${i}`)));
});
await recordGrpc('grpc-cancelled', 'grpc-js: a call whose deadline passes (client RST_STREAM, DEADLINE_EXCEEDED on the client), then a normal call', async (say) => {
  await say('slow call', { deadline: Date.now() + 150 });
  await say('after deadline');
});
await recordDns();
process.exit(0);
