// Test peer: a plain node:http server. Prints `ready <port>`; GET /size/N answers N bytes.
// argv: host (127.0.0.1 | ::1). Exits when stdin closes.
import http from 'node:http';

const host = process.argv[2] ?? '127.0.0.1';
const server = http.createServer((req, res) => {
  const m = /^\/size\/(\d+)$/.exec(req.url ?? '');
  const body = m ? Buffer.alloc(Number(m[1]), 0x61) : Buffer.from(`hello ${req.url}`);
  req.resume();
  req.on('end', () => res.end(body));
});
server.keepAliveTimeout = 30_000;
server.listen(0, host, () => {
  const addr = server.address();
  process.stdout.write(`ready ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.stdin.on('end', () => process.exit(0)).resume();
