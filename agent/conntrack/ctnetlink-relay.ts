// Runs inside another network namespace (started by openInNamespace through nsenter): opens the
// ctnetlink sockets there and copies every datagram to stdout, framed. Exits when the parent goes.
import { openInProcess, type Channel } from './ctnetlink-source.js';

function frame(ch: number, body: Buffer): void {
  const head = Buffer.alloc(5);
  head[0] = ch;
  head.writeUInt32LE(body.length, 1);
  process.stdout.write(Buffer.concat([head, body]));
}

const src = openInProcess({
  datagram: (c: Channel, b) => frame(c === 'events' ? 0 : 1, b),
  error: (e) => frame(2, Buffer.from(`${e.code ?? 'ERROR'}: ${e.message}`)),
});
process.stdin.on('data', (d: Buffer) => { if (d.includes(0x72)) src.redump(); });
process.stdin.on('end', () => { src.close(); process.exit(0); });
process.on('SIGTERM', () => { src.close(); process.exit(0); });
