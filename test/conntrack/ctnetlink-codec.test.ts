// The ctnetlink decoder on hand-built bytes (the kernel's layout, written out field by field): good
// messages decode, and every kind of damage is reported as `malformed`, never thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDatagram, encodeDumpRequest, ipv6, IPS_DST_NAT } from '../../agent/conntrack/ctnetlink-codec.js';
import { NatTable } from '../../agent/conntrack/nat-table.js';

function attr(type: number, payload: Buffer, nested = false): Buffer {
  const len = 4 + payload.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type | (nested ? 0x8000 : 0), 2);
  payload.copy(b, 4);
  return b;
}
const ip4 = (s: string) => Buffer.from(s.split('.').map(Number));
const be16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const be32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
function tuple(src: string, sport: number, dst: string, dport: number): Buffer {
  return Buffer.concat([
    attr(1, Buffer.concat([attr(1, ip4(src)), attr(2, ip4(dst))]), true),
    attr(2, Buffer.concat([attr(1, Buffer.from([6])), attr(2, be16(sport)), attr(3, be16(dport))]), true),
  ]);
}
function message(msgType: number, body: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(20 + body.length, 0);
  head.writeUInt16LE((1 << 8) | msgType, 4);
  head[16] = 2; // AF_INET
  return Buffer.concat([head, body]);
}
const dnat = (msgType: number) => message(msgType, Buffer.concat([
  attr(1, tuple('198.18.1.2', 40000, '198.18.100.10', 80), true),
  attr(2, tuple('198.18.2.2', 8080, '198.18.1.2', 40000), true),
  attr(3, be32(IPS_DST_NAT | 0x8)),
]));

test('a NEW event and a DELETE event decode to original and reply tuples', () => {
  const [a, b] = decodeDatagram(Buffer.concat([dnat(0), dnat(2)]));
  assert.deepEqual(a, { type: 'entry', entry: {
    kind: 'new', status: IPS_DST_NAT | 0x8,
    orig: { src: '198.18.1.2', srcPort: 40000, dst: '198.18.100.10', dstPort: 80, proto: 6 },
    reply: { src: '198.18.2.2', srcPort: 8080, dst: '198.18.1.2', dstPort: 40000, proto: 6 },
  } });
  assert.equal(b!.type === 'entry' && b.entry.kind, 'destroy');
});

test('damaged messages are reported as malformed and later ones in the datagram are not lost', () => {
  const good = dnat(0);
  const cut = Buffer.from(good.subarray(0, good.length - 12));
  cut.writeUInt32LE(cut.length, 0); // a consistent header around a truncated attribute
  const out = decodeDatagram(Buffer.concat([cut, Buffer.alloc((4 - (cut.length % 4)) % 4), good]));
  assert.equal(out[0]!.type, 'malformed');
  assert.equal(out[1]!.type, 'entry');
  assert.equal(decodeDatagram(good.subarray(0, 30))[0]!.type, 'malformed', 'length beyond the datagram');
  assert.equal(decodeDatagram(message(0, attr(1, tuple('1.2.3.4', 1, '5.6.7.8', 2), true)))[0]!.type, 'malformed', 'no reply tuple');
  assert.deepEqual(decodeDatagram(Buffer.alloc(3)), [], 'shorter than a header: nothing');
});

test('dump request header: CT_GET with REQUEST|DUMP', () => {
  const b = encodeDumpRequest(7, 99);
  assert.equal(b.readUInt32LE(0), 20);
  assert.equal(b.readUInt16LE(4), 0x101);
  assert.equal(b.readUInt16LE(6), 0x301);
  assert.equal(b.readUInt32LE(8), 7);
});

test('IPv6 text form follows RFC 5952', () => {
  const v6 = (s: string) => Buffer.from(s.replace(/:/g, ''), 'hex');
  assert.equal(ipv6(v6('20010db8:00000000:00000000:00000001')), '2001:db8::1');
  assert.equal(ipv6(v6('00000000:00000000:0000ffff:c6120102')), '198.18.1.2');
  assert.equal(ipv6(v6('20010db8:00010000:00010000:00010001')), '2001:db8:1:0:1:0:1:1');
});

test('nat table: bounded, grace after destroy, untranslated connections known but never translated', () => {
  let now = 1000;
  const t = new NatTable(2, 100, () => now);
  const e = (sport: number, kind: 'new' | 'destroy' = 'new') => ({
    kind, status: 0,
    orig: { src: '198.18.1.2', srcPort: sport, dst: '198.18.100.10', dstPort: 80, proto: 6 },
    reply: { src: '198.18.2.2', srcPort: 8080, dst: '198.18.1.2', dstPort: sport, proto: 6 },
  });
  const q = (p: number) => ({ localAddress: '198.18.1.2', localPort: p, remoteAddress: '198.18.100.10', remotePort: 80 });
  t.apply(e(1)); t.apply(e(2)); t.apply(e(3));
  assert.equal(t.size, 2);
  assert.equal(t.evicted, 1);
  assert.equal(t.lookup(q(1)), undefined, 'the oldest went first');
  t.apply(e(2, 'destroy'));
  now += 99;
  assert.deepEqual(t.lookup(q(2)), { address: '198.18.2.2', port: 8080 });
  now += 1;
  assert.equal(t.lookup(q(2)), undefined);
  assert.equal(t.sweep(), 1);
  // Untranslated connections are not NAT rows, but a lookup knows them: null (no NAT), not undefined (no news).
  const plain = e(9);
  plain.reply = { src: '198.18.100.10', srcPort: 80, dst: '198.18.1.2', dstPort: 9, proto: 6 };
  assert.equal(t.lookup(q(9)), undefined, 'not heard of yet');
  assert.equal(t.apply(plain), false);
  assert.equal(t.size, 1);
  assert.equal(t.lookup(q(9)), null, 'known untranslated');
  t.apply({ ...plain, kind: 'destroy' });
  now += 99;
  assert.equal(t.lookup(q(9)), null, 'still known during the grace period');
  now += 1;
  assert.equal(t.lookup(q(9)), undefined);
  t.sweep();
  assert.equal(t.untranslatedSize, 0);
  // Bounded like the NAT rows: the oldest untranslated tuple goes first.
  for (const p of [10, 11, 12]) t.apply({ ...e(p), reply: { ...plain.reply, dstPort: p } });
  assert.equal(t.untranslatedSize, 2);
  assert.equal(t.lookup(q(10)), undefined);
  assert.equal(t.lookup(q(12)), null);
});
