// Test peer: the same tiny authoritative DNS server as dns-server.ts, over TCP (RFC 1035 4.2.2:
// every message is preceded by its 2-byte length) on 127.0.0.1:<random port>.
// Answers A queries for *.sockeye.test with 198.18.0.7, everything else NXDOMAIN.
import net from 'node:net';
import { createRequire } from 'node:module';

interface Question { name: string; type: string }
interface Packet { id?: number; type?: string; flags?: number; questions?: Question[]; answers?: object[] }
// dns-packet ships no types; the two calls used here.
const dnsPacket = createRequire(import.meta.url)('dns-packet') as {
  decode(b: Buffer): Packet; encode(p: Packet): Buffer; AUTHORITATIVE_ANSWER: number;
};

function answer(msg: Buffer): Buffer | undefined {
  let query: Packet;
  try { query = dnsPacket.decode(msg); } catch { return undefined; }
  const q = query.questions?.[0];
  const known = q !== undefined && q.type === 'A' && q.name.endsWith('sockeye.test');
  return dnsPacket.encode({
    id: query.id, type: 'response', flags: dnsPacket.AUTHORITATIVE_ANSWER | (known ? 0 : 3),
    questions: query.questions,
    answers: known ? [{ type: 'A', name: q.name, ttl: 60, data: '198.18.0.7' }] : [],
  });
}

const server = net.createServer((conn) => {
  let pending = Buffer.alloc(0);
  conn.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const len = pending.readUInt16BE(0);
      const reply = answer(pending.subarray(2, 2 + len));
      pending = pending.subarray(2 + len);
      if (!reply) { conn.destroy(); return; }
      const framed = Buffer.alloc(2 + reply.length);
      framed.writeUInt16BE(reply.length, 0);
      reply.copy(framed, 2);
      conn.write(framed); // one write: length and message in the same syscall
    }
  });
  conn.on('error', () => conn.destroy());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`ready ${(server.address() as net.AddressInfo).port}\n`));
process.stdin.on('end', () => process.exit(0)).resume();
