// DNS message decoder against an independent encoder (dns-packet), plus the hostile cases:
// compression loops, forward pointers, messages cut at every byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeDnsMessage } from '../../agent/protocols/dns/dns-message.js';
import { require } from './helpers/http2-dns-test-helpers.js';

const dnsPacket = require('dns-packet');

const label = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,14}$/);
const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
const ipv6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':'));
const answer = fc.oneof(
  fc.record({ type: fc.constant('A'), name, ttl: fc.nat(86400), data: ipv4 }),
  fc.record({ type: fc.constant('AAAA'), name, ttl: fc.nat(86400), data: ipv6 }),
  fc.record({ type: fc.constant('CNAME'), name, ttl: fc.nat(86400), data: name }),
);
const message = fc.record({
  id: fc.nat(0xffff), response: fc.boolean(), rcode: fc.nat(5), tc: fc.boolean(),
  qname: name, qtype: fc.constantFrom('A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV', 'PTR'),
  answers: fc.array(answer, { maxLength: 6 }),
});

/** Canonical IPv6 text via WHATWG URL parsing (dns-packet prints addresses uncompressed). */
const v6 = (s: string): string => new URL(`http://[${s}]/`).hostname;

test('decodes what dns-packet encodes: header, question, A/AAAA/CNAME answers', () => {
  fc.assert(fc.property(message, (m) => {
    const buf: Buffer = dnsPacket.encode({
      id: m.id, type: m.response ? 'response' : 'query',
      flags: (m.response ? m.rcode : 0) | (m.tc ? dnsPacket.TRUNCATED_RESPONSE : 0) | dnsPacket.RECURSION_DESIRED,
      questions: [{ name: m.qname, type: m.qtype, class: 'IN' }], answers: m.response ? m.answers : [],
    });
    const ref = dnsPacket.decode(buf);
    const got = decodeDnsMessage(Uint8Array.from(buf))!;
    assert.equal(got.id, m.id);
    assert.equal(got.response, m.response);
    assert.equal(got.truncated, m.tc);
    assert.equal(got.rcode, ref.rcode);
    assert.equal(got.qname, m.qname);
    assert.equal(got.qtype, m.qtype);
    assert.equal(got.qclass, 'IN');
    assert.equal(got.incomplete, false);
    assert.equal(got.answers.length, ref.answers.length);
    got.answers.forEach((a, i) => {
      const r = ref.answers[i];
      assert.equal(a.name, r.name); assert.equal(a.type, r.type); assert.equal(a.ttl, r.ttl);
      if (a.type === 'AAAA') assert.equal(`[${a.data}]`, v6(r.data));
      else assert.equal(a.data, r.data);
    });
  }), { numRuns: 500 });
});

test('IPv6 answers are printed in RFC 5952 form', () => {
  const buf = dnsPacket.encode({ id: 1, type: 'response', questions: [{ name: 'h', type: 'AAAA' }], answers: [
    { type: 'AAAA', name: 'h', ttl: 1, data: '2001:db8:0:0:0:0:0:10' }, { type: 'AAAA', name: 'h', ttl: 1, data: '::1' },
    { type: 'AAAA', name: 'h', ttl: 1, data: '2001:db8:1:0:1:0:0:1' },
  ] });
  assert.deepEqual(decodeDnsMessage(Uint8Array.from(buf))!.answers.map((a) => a.data), ['2001:db8::10', '::1', '2001:db8:1:0:1::1']);
});

test('compression: pointers to earlier names work; loops and forward pointers are rejected without hanging', () => {
  // header (qd=1, an=1), question "a.example" IN A, answer name = pointer to offset 12
  const q = [1, 0x61, 7, ...Buffer.from('example'), 0, 0, 1, 0, 1];
  const ok = Uint8Array.from([0, 9, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...q, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 1]);
  const m = decodeDnsMessage(ok)!;
  assert.equal(m.qname, 'a.example');
  assert.deepEqual(m.answers, [{ name: 'a.example', type: 'A', ttl: 60, data: '198.18.0.1' }]);
  const selfLoop = Uint8Array.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  const r1 = decodeDnsMessage(selfLoop)!;
  assert.equal(r1.qname, undefined); assert.equal(r1.incomplete, true);
  const forward = Uint8Array.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1]);
  assert.equal(decodeDnsMessage(forward)!.qname, undefined);
  // A name that is one label after another loops back through a pointer to itself.
  const labelLoop = Uint8Array.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0xc0, 12, 0, 1, 0, 1]);
  assert.equal(decodeDnsMessage(labelLoop)!.qname, undefined);
});

test('a message cut at every byte never throws; the question survives once it is complete', () => {
  const buf = Uint8Array.from(dnsPacket.encode({ id: 77, type: 'response', questions: [{ name: 'cut.sockeye.test', type: 'A' }],
    answers: [{ type: 'CNAME', name: 'cut.sockeye.test', ttl: 5, data: 'web.sockeye.test' }, { type: 'A', name: 'web.sockeye.test', ttl: 5, data: '198.18.0.7' }] }));
  const questionEnd = 12 + 18 + 4;
  for (let n = 0; n <= buf.length; n++) {
    const m = decodeDnsMessage(buf.subarray(0, n));
    if (n < 12) { assert.equal(m, undefined); continue; }
    assert.equal(m!.id, 77);
    assert.equal(m!.incomplete, n < buf.length);
    if (n >= questionEnd) assert.equal(m!.qname, 'cut.sockeye.test');
    assert.ok(m!.answers.length <= 2);
  }
});

test('random bytes never throw', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => { decodeDnsMessage(b); }), { numRuns: 3000 });
});
