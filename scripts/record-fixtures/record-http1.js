#!/usr/bin/env node
// Records real HTTP/1.1 byte streams for test/fixtures/protocols/http1/: real clients (curl, Node's
// http client, a raw pipelining socket) talk to a real Node http server through a TCP proxy on
// loopback that logs every chunk each side delivers, both directions, in order. The server logs what
// it saw and answered per connection; that log is the fixture's expected result, independent of
// our parser. Run: node scripts/record-fixtures/record-http1.js  (rewrites the fixture files)
import http from 'node:http';
import net from 'node:net';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const outDir = new URL('../../test/fixtures/protocols/http1/', import.meta.url).pathname;
const HOST = '127.0.0.1';

/** The server's own account of each connection: [{ method, target, status }] keyed by remote port. */
const served = new Map();

function startServer() {
  const server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    const key = req.socket.remotePort;
    const log = served.get(key) ?? [];
    served.set(key, log);
    const entry = { method: req.method, target: req.url, status: 0 };
    log.push(entry);
    res.on('finish', () => { entry.status = res.statusCode; });
    req.resume();
    req.on('end', () => route(req, res));
  });
  server.on('upgrade', (req, socket) => {
    const log = served.get(socket.remotePort) ?? [];
    served.set(socket.remotePort, log);
    if (req.headers.upgrade === 'h2c') {
      log.push({ method: req.method, target: req.url, status: 101, upgrade: 'h2c' });
      // A faithful minimal h2c server: 101, then SETTINGS and the stream-1 response (":status 200"
      // is HPACK static index 8) with END_STREAM; acknowledges the client's SETTINGS.
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
      socket.write(Buffer.from('000000040000000000' + '000001010500000001' + '88', 'hex'));
      socket.once('data', () => socket.write(Buffer.from('000000040100000000', 'hex')));
      setTimeout(() => socket.end(Buffer.from('0000080700000000000000000100000000', 'hex')), 200);
      return;
    }
    log.push({ method: req.method, target: req.url, status: 101, upgrade: 'websocket' });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n');
    socket.write(Buffer.from([0x81, 0x05, ...Buffer.from('hello')]));
    socket.on('data', () => socket.end());
  });
  return new Promise((resolve) => server.listen(0, HOST, () => resolve(server)));
}

function route(req, res) {
  const url = new URL(req.url, 'http://x');
  switch (url.pathname) {
    case '/hello': res.setHeader('Content-Type', 'text/plain'); res.end('hello world\n'); return;
    case '/chunked': res.write('first piece,'); setTimeout(() => { res.write('second piece,'); res.end('last'); }, 5); return;
    case '/empty': res.statusCode = 204; res.end(); return;
    case '/cached':
      if (req.headers['if-none-match'] === '"v1"') { res.statusCode = 304; res.end(); return; }
      res.setHeader('ETag', '"v1"'); res.end('cacheable'); return;
    case '/big': res.end('B'.repeat(20000)); return;
    case '/missing': res.statusCode = 404; res.end('not found'); return;
    case '/fail': res.statusCode = 503; res.setHeader('Retry-After', '1'); res.end('busy'); return;
    case '/hints': res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' }); res.end('with hints'); return;
    case '/upload': res.statusCode = 201; res.end('stored'); return;
    default: res.statusCode = 400; res.end(); return;
  }
}

/** A TCP proxy that logs each chunk per accepted connection: { chunks: [{ dir, data }], clientPort }. */
function startProxy(targetPort) {
  const sessions = [];
  const server = net.createServer((client) => {
    const session = { chunks: [], clientPort: 0, done: null };
    sessions.push(session);
    const upstream = net.connect(targetPort, HOST);
    let closed = 0;
    session.done = new Promise((resolve) => {
      const end = () => { if (++closed === 2) resolve(); };
      client.on('close', end);
      upstream.on('close', end);
    });
    upstream.on('connect', () => { session.clientPort = upstream.localPort; });
    client.on('data', (d) => { session.chunks.push({ dir: 'egress', data: d.toString('base64') }); upstream.write(d); });
    upstream.on('data', (d) => { session.chunks.push({ dir: 'ingress', data: d.toString('base64') }); client.write(d); });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve) => server.listen(0, HOST, () => resolve({ server, sessions })));
}

async function record(name, description, client, run, external) {
  const server = external ? null : await startServer();
  const proxy = await startProxy(external ? external.port : server.address().port);
  served.clear();
  await run(proxy.server.address().port);
  await Promise.race([Promise.all(proxy.sessions.map((s) => s.done)), new Promise((r) => setTimeout(r, 3000))]);
  proxy.sessions.forEach((session, i) => {
    const expect = external ? external.log(session.clientPort) : served.get(session.clientPort) ?? [];
    const file = proxy.sessions.length > 1 ? `${name}-${i + 1}.json` : `${name}.json`;
    writeFileSync(join(outDir, file), JSON.stringify({ description, client, server: external ? external.name : 'node:http ' + process.version, expect, chunks: session.chunks }, null, 1) + '\n');
    console.log(`recorded ${file}: ${session.chunks.length} chunks, ${expect.length} exchanges`);
  });
  server?.closeAllConnections?.();
  server?.close();
  proxy.server.close();
}

/** curl runs as a child process; the servers live in this process, so it must not block. */
async function curl(args, { allowFail = false } = {}) {
  try {
    await promisify(execFile)('curl', ['-sS', '-o', '/dev/null', '--max-time', '5', ...args]);
  } catch (err) {
    if (!allowFail) throw new Error(`curl ${args.join(' ')}: ${err.stderr ?? err.message}`);
  }
}

function nodeRequests(port, list) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return list.reduce((p, opts) => p.then(() => new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port, agent, ...opts }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    if (opts.body) { for (const piece of opts.body) req.write(piece); }
    req.end();
  })), Promise.resolve()).then(() => agent.destroy());
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

await record('curl-keepalive', 'curl: several URLs on one keep-alive connection (GET, HEAD, 204, 404, 503, big body)', execFileSync('curl', ['--version']).toString().split('\n')[0],
  async (port) => curl(['-H', 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '-H', 'Authorization: Bearer secret',
    `http://${HOST}:${port}/hello?lang=en`, `http://${HOST}:${port}/chunked`, `http://${HOST}:${port}/empty`, `http://${HOST}:${port}/missing`,
    `http://${HOST}:${port}/fail`, `http://${HOST}:${port}/big`]));
await record('curl-head', 'curl -I: HEAD with Content-Length and no body, then GET on the same connection', 'curl',
  async (port) => curl(['-I', `http://${HOST}:${port}/big`, '-:', '--head', `http://${HOST}:${port}/hello`]));
await record('curl-expect-continue', 'curl: POST with Expect: 100-continue (interim 100), then 103 Early Hints', 'curl',
  async (port) => curl(['-H', 'Expect: 100-continue', '--data-binary', 'x'.repeat(3000), `http://${HOST}:${port}/upload`, '-:', `http://${HOST}:${port}/hints`]));
await record('curl-http10-close', 'curl --http1.0: response body delimited by connection close', 'curl',
  async (port) => curl(['--http1.0', `http://${HOST}:${port}/chunked`]));
await record('node-keepalive', 'Node http.Agent keep-alive: chunked upload, conditional 304, GETs', 'node:http ' + process.version,
  (port) => nodeRequests(port, [
    { method: 'POST', path: '/upload', headers: { 'Content-Type': 'application/json', Cookie: 'sid=secret' }, body: ['{"a":', '1}'] },
    { path: '/cached' }, { path: '/cached', headers: { 'If-None-Match': '"v1"' } }, { path: '/hello' }, { method: 'DELETE', path: '/missing' },
  ]));
await record('raw-pipelined', 'a raw socket pipelining three requests in one write', 'net.Socket',
  (port) => new Promise((resolve) => {
    const s = net.connect(port, HOST, () => s.write('GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /chunked HTTP/1.1\r\nHost: a\r\n\r\nGET /empty HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'));
    s.resume();
    s.on('close', resolve);
  }));
await record('node-websocket', 'Node http client upgrading to websocket; frames follow the 101', 'node:http ' + process.version,
  (port) => new Promise((resolve) => {
    const req = http.request({ host: HOST, port, path: '/ws', headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' } });
    req.on('upgrade', (_res, socket) => { socket.write(Buffer.from([0x81, 0x80, 0, 0, 0, 0])); socket.on('close', resolve); socket.resume(); });
    req.end();
  }));
await record('curl-h2c-upgrade', 'curl --http2 over cleartext: HTTP/1.1 Upgrade: h2c, 101, then HTTP/2 frames', 'curl',
  (port) => curl(['--max-time', '3', '--http2', `http://${HOST}:${port}/h2`], { allowFail: true }));

/** nginx on loopback with its own prefix; its access log (with the client port) is the truth. */
async function withNginx(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'sockeye-nginx-'));
  mkdirSync(join(dir, 'html'));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'html', 'index.html'), '<html><body>' + 'hello nginx '.repeat(40) + '</body></html>\n');
  writeFileSync(join(dir, 'html', 'data.txt'), 'line of text\n'.repeat(400));
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, HOST, r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  writeFileSync(join(dir, 'nginx.conf'), `
daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/logs/error.log;
events { worker_connections 64; }
http {
  log_format truth '$remote_port $request_method $request_uri $status'; access_log ${dir}/logs/access.log truth;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  gzip on; gzip_types text/plain; gzip_min_length 1;
  server {
    listen ${HOST}:${port}; root ${dir}/html;
    location = /empty { return 204; }
    location = /moved { return 301 /index.html; }
    location = /echo { client_max_body_size 1m; return 200 "posted\\n"; }
  }
}
`);
  const child = (await import('node:child_process')).spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const up = await new Promise((r) => { const s = net.connect(port, HOST, () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const version = execFileSync('nginx', ['-v'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString() || 'nginx';
  try {
    await fn({ port, name: version.trim() || 'nginx', log: (clientPort) => readFileSync(join(dir, 'logs', 'access.log'), 'utf8').trim().split('\n')
      .map((l) => l.split(' ')).filter((f) => Number(f[0]) === clientPort).map((f) => ({ method: f[1], target: f[2], status: Number(f[3]) })) });
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await withNginx((nginx) => record('nginx-keepalive', 'curl against nginx: static file, gzip (chunked), conditional 304, 204, 301, 404, HEAD, POST', 'curl',
  async (port) => {
    const u = (p) => `http://${HOST}:${port}${p}`;
    await curl([u('/index.html'), '-:', '--compressed', u('/data.txt'), '-:', '-H', 'If-Modified-Since: Sat, 01 Jan 2050 00:00:00 GMT', u('/index.html'),
      '-:', u('/empty'), '-:', u('/moved'), '-:', u('/nothing-here'), '-:', '-I', u('/data.txt'), '-:', '--data-binary', 'k=v', u('/echo')]);
  }, nginx));
