// Test peer: a tiny authoritative DNS server over UDP on 127.0.0.1:<random port>.
// Answers A queries for *.sockeye.test with 198.18.0.7, everything else NXDOMAIN.
import dgram from 'node:dgram';
import { createRequire } from 'node:module';

interface Question { name: string; type: string }
interface Packet { id?: number; type?: string; flags?: number; questions?: Question[]; answers?: object[] }
// dns-packet ships no types; the two calls used here.
const dnsPacket = createRequire(import.meta.url)('dns-packet') as {
  decode(b: Buffer): Packet; encode(p: Packet): Buffer; AUTHORITATIVE_ANSWER: number;
};

const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  let query: Packet;
  try { query = dnsPacket.decode(msg); } catch { return; }
  const q = query.questions?.[0];
  const known = q !== undefined && q.type === 'A' && q.name.endsWith('sockeye.test');
  const reply = dnsPacket.encode({
    id: query.id, type: 'response', flags: dnsPacket.AUTHORITATIVE_ANSWER | (known ? 0 : 3),
    questions: query.questions,
    answers: known ? [{ type: 'A', name: q.name, ttl: 60, data: '198.18.0.7' }] : [],
  });
  sock.send(reply, rinfo.port, rinfo.address);
});
sock.bind(0, '127.0.0.1', () => process.stdout.write(`ready ${sock.address().port}\n`));
process.stdin.on('end', () => process.exit(0)).resume();
