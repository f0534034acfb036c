// DNS load on loopback: a node:dgram DNS server answering A queries and a client sending `queries`
// queries with `concurrency` in flight, in one process. Prints {"queries":N,"seconds":S}.
import { createSocket } from 'node:dgram';

const queries = Number(process.argv[2] ?? 20000);
const concurrency = Number(process.argv[3] ?? 16);

function query(id: number): Buffer {
  const name = Buffer.from([5, ...Buffer.from('bench'), 7, ...Buffer.from('sockeye'), 4, ...Buffer.from('test'), 0]);
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0); h.writeUInt16BE(0x0100, 2); h.writeUInt16BE(1, 4);
  return Buffer.concat([h, name, Buffer.from([0, 1, 0, 1])]);
}
function answer(q: Buffer): Buffer {
  const r = Buffer.from(q);
  r.writeUInt16BE(0x8180, 2); r.writeUInt16BE(1, 6);
  const rr = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 7]);
  return Buffer.concat([r, rr]);
}

const server = createSocket('udp4');
server.on('message', (msg, rinfo) => server.send(answer(msg), rinfo.port, rinfo.address));
await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
const port = server.address().port;
process.stdout.write('ready\n');

let sent = 0;
let timeouts = 0;
const start = process.hrtime.bigint();
await Promise.all(Array.from({ length: concurrency }, async () => {
  const sock = createSocket('udp4');
  sock.connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  while (sent < queries) {
    const id = sent++ & 0xffff;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { timeouts++; sock.removeAllListeners('message'); resolve(); }, 1000);
      sock.once('message', () => { clearTimeout(t); resolve(); });
      sock.send(query(id));
    });
  }
  sock.close();
}));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
server.close();
process.stdout.write(`${JSON.stringify({ queries, timeouts, seconds })}\n`);
