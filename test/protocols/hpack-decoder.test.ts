// HPACK decoder: checked against an independent encoder (hpack.js) on random header lists, and on
// the degraded cases passive capture produces (tables never seen, cut-short blocks, bad Huffman).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HpackDecoder } from '../../agent/protocols/http2/hpack-decoder.js';
import { huffmanCodes, huffmanDecode, huffmanEncode } from '../../agent/protocols/http2/hpack-huffman.js';
import { STATIC_TABLE } from '../../agent/protocols/http2/hpack-static-table.js';
import { hpackCompressor, require } from './helpers/http2-dns-test-helpers.js';

const pairs = (h: string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i < h.length; i += 2) out.push([h[i]!, h[i + 1]!]);
  return out;
};

test('Huffman code table equals the one hpack.js ships (RFC 7541 Appendix B), all 257 symbols', () => {
  const theirs = require('hpack.js/lib/hpack/huffman.js').encode as [number, number][];
  assert.equal(theirs.length, 257);
  for (let s = 0; s < 257; s++) assert.deepEqual([huffmanCodes[s]!.bits, huffmanCodes[s]!.code], theirs[s], `symbol ${s}`);
});

test('static table equals hpack.js static table', () => {
  const theirs = require('hpack.js/lib/hpack/static-table.js').table as { name: string; value: string }[];
  assert.equal(theirs.length, 61);
  theirs.forEach((e, i) => assert.deepEqual(STATIC_TABLE[i + 1], [e.name, e.value], `index ${i + 1}`));
});

test('Huffman round trip over arbitrary octet strings', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    const s = String.fromCharCode(...bytes);
    const enc = huffmanEncode(s);
    assert.equal(huffmanDecode(enc, 0, enc.length), s);
  }), { numRuns: 500 });
});

test('Huffman rejects EOS in the string and padding that is too long or not all ones', () => {
  const a = huffmanEncode('a'); // 5 bits + 3 bits of 1-padding
  assert.equal(huffmanDecode(a, 0, a.length), 'a');
  assert.equal(huffmanDecode(Uint8Array.from([a[0]! & 0xf8]), 0, 1), undefined, 'zero padding');
  assert.equal(huffmanDecode(Uint8Array.from([0xff, 0xff, 0xff, 0xff]), 0, 4), undefined, 'EOS (30 ones)');
  assert.equal(huffmanDecode(Uint8Array.from([...a, 0xff]), 0, 2), undefined, 'padding longer than 7 bits');
});

const headerName = fc.oneof(
  fc.constantFrom(':path', ':authority', 'user-agent', 'content-type', 'accept', 'cookie', 'x-trace', 'grpc-timeout'),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
);
const headerValue = fc.oneof(fc.constantFrom('', 'GET', '/', 'application/grpc', 'gzip, deflate'), fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x')));
// hpack.js's encoder looks values up in plain objects: a name or value such as 'toString' makes it
// emit an index that does not exist (its own decoder rejects it too), so the oracle avoids them.
const inPrototype = (s: string): boolean => s in Object.prototype;
const headerList = fc.array(fc.tuple(headerName, headerValue).filter(([n, v]) => !inPrototype(n) && !inPrototype(v)), { minLength: 1, maxLength: 12 });

test('decodes sequences of blocks from hpack.js (dynamic table, eviction) exactly', () => {
  fc.assert(fc.property(fc.array(headerList, { minLength: 1, maxLength: 8 }), fc.constantFrom(256, 4096), (blocks, tableSize) => {
    const compress = hpackCompressor(tableSize);
    const dec = new HpackDecoder(tableSize);
    for (const headers of blocks) {
      const block = compress(headers);
      const res = dec.decode(block, 0, block.length);
      assert.equal(res.unknownRefs, 0); assert.equal(res.malformed, false); assert.equal(res.truncated, false);
      assert.deepEqual(pairs(res.headers), headers);
    }
  }), { numRuns: 300 });
});

test('a decoder that missed earlier blocks keeps what it can decode and counts unknown references', () => {
  const compress = hpackCompressor();
  const first: [string, string][] = [[':method', 'GET'], [':path', '/a'], ['x-session', 'abc123'], ['user-agent', 'agent/1']];
  compress(first);
  const second = compress([[':method', 'GET'], [':path', '/b'], ['x-session', 'abc123'], ['user-agent', 'agent/1']]);
  const late = new HpackDecoder(); // picked up mid-stream: never saw `first`
  const res = late.decode(second, 0, second.length);
  assert.ok(res.unknownRefs >= 2, `unknown refs ${res.unknownRefs}`);
  const got = pairs(res.headers);
  assert.deepEqual(got.filter(([n]) => n === ':method' || n === ':path'), [[':method', 'GET'], [':path', '/b']]);
  assert.equal(got.some(([n, v]) => n === 'x-session' && v !== 'abc123'), false, 'never a wrong value');
});

test('a block cut short decodes its complete prefix and reports truncation', () => {
  const compress = hpackCompressor();
  const block = compress([[':method', 'POST'], [':path', '/upload'], ['x-long', 'v'.repeat(200)]]);
  const dec = new HpackDecoder();
  for (let cut = 0; cut < block.length; cut++) {
    const res = dec.decode(block, 0, cut);
    const got = pairs(res.headers);
    assert.ok(got.length <= 3);
    const want: [string, string][] = [[':method', 'POST'], [':path', '/upload'], ['x-long', 'v'.repeat(200)]];
    assert.deepEqual(got, want.slice(0, got.length), `cut ${cut}`);
    dec.desync();
  }
});

test('size updates and entries larger than the table follow RFC 7541 4.4', () => {
  const dec = new HpackDecoder(4096);
  // literal with incremental indexing, new name 'k' (1 byte), value of 100 bytes: 133 octets
  const lit = (v: string): number[] => [0x40, 1, 0x6b, v.length, ...Buffer.from(v)];
  let b = Uint8Array.from([...lit('a'.repeat(100)), ...lit('b'.repeat(100))]);
  dec.decode(b, 0, b.length);
  assert.equal(dec.entryCount, 2);
  assert.equal(dec.tableSize, 2 * 133);
  b = Uint8Array.from([0x3f, 0x67]); // dynamic table size update: 31 + 0x67 = 134 octets
  dec.decode(b, 0, b.length);
  assert.equal(dec.entryCount, 1, 'evicted the oldest to fit 134 octets');
  b = Uint8Array.from([0xbe]); // index 62: newest entry
  assert.deepEqual(dec.decode(b, 0, 1).headers, ['k', 'b'.repeat(100)]);
  b = Uint8Array.from(lit('c'.repeat(120))); // 153 octets > 134: the table empties
  dec.decode(b, 0, b.length);
  assert.equal(dec.entryCount, 0);
});

test('garbage never throws and the table stays within its bound', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (blocks) => {
    const dec = new HpackDecoder(4096, 8192);
    for (const b of blocks) {
      const res = dec.decode(b, 0, b.length);
      assert.ok(Array.isArray(res.headers));
      assert.ok(dec.tableSize <= 8192);
    }
  }), { numRuns: 1000 });
});

test('a size update above the announced SETTINGS_HEADER_TABLE_SIZE is flagged and held to it; an assumed limit is not enforced as a flag', () => {
  const dec = new HpackDecoder(4096);
  dec.setAllowedMax(100);
  let b = Uint8Array.from([0x3f, 100 - 31]); // update to 100: within
  assert.equal(dec.decode(b, 0, b.length).oversizedUpdates, 0);
  b = Uint8Array.from([0x3f, 0xa9, 0x01]); // update to 200 (31 + 169): above
  assert.equal(dec.decode(b, 0, b.length).oversizedUpdates, 1);
  b = Uint8Array.from([0x40, 1, 0x6b, 100, ...Buffer.alloc(100, 0x61)]); // 133 octets: over the 100 we hold to
  dec.decode(b, 0, b.length);
  assert.equal(dec.entryCount, 0);
  // Picked up mid-stream (degraded) with no SETTINGS seen: 4096 is only our assumption.
  const mid = new HpackDecoder(4096);
  mid.desync();
  b = Uint8Array.from([0x3f, 0xe1, 0x3f]); // update to 8192
  assert.equal(mid.decode(b, 0, b.length).oversizedUpdates, 0);
  // From the connection's start the default is the real limit.
  const fresh = new HpackDecoder(4096);
  assert.equal(fresh.decode(b, 0, b.length).oversizedUpdates, 1);
});
