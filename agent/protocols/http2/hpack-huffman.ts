// HPACK's static Huffman code (RFC 7541 Appendix B). The code is canonical: sorting the 257 symbols
// by (code length, symbol) and counting upwards yields every code, so only the lengths are stored.
// Decoding walks bit by bit against per-length limits; a 256-entry table resolves the common
// 5..8-bit codes in one step (see bench/protocols/http2-dns-bench.ts for the figures).

// Code length of symbols 0..256 (256 = EOS), as 'a' + (length - 5).
const LENGTHS =
  'isxxxxxxxtzxxzxxxxxxxxzxxxxxxxxxbffhibdgffdgdbbbaaabbbbbbbcdkbhfibccccccccccccccccccccccdcdioijbkab' +
  'ababbbaccbbbabcbaabccccckgjixprpprrrsrssssststtrstssssqrsrsstrqprrssqsrrtqrssqqrqsrssprrrsrrsvvporsru' +
  'vvvwwvtuoqvwwvwtqqvvxwwwptpqrqqsrruuttvsvwvvwwwwwxwwwwwvz';

const MAX_LEN = 30;
const EOS = 256;

/** Symbols sorted by (length, symbol); firstCode/firstIndex/count per length (canonical code). */
const sorted = new Uint16Array(257);
const firstCode = new Float64Array(MAX_LEN + 1);
const firstIndex = new Int32Array(MAX_LEN + 1);
const countPerLen = new Int32Array(MAX_LEN + 1);
/** For a byte-aligned 8-bit window: symbol in the low 9 bits, code length in bits 16+; 0 = not resolvable. */
const fast8 = new Uint32Array(256);
/** Canonical code of each symbol (for the encoder used by tests and benchmarks). */
export const huffmanCodes: ReadonlyArray<{ code: number; bits: number }> = (() => {
  const lens = Array.from(LENGTHS, (ch) => ch.charCodeAt(0) - 97 + 5);
  const order = lens.map((_, s) => s).sort((a, b) => lens[a]! - lens[b]! || a - b);
  const codes: { code: number; bits: number }[] = new Array(257);
  let code = 0;
  let prevLen = lens[order[0]!]!;
  order.forEach((sym, i) => {
    const len = lens[sym]!;
    if (i > 0) code = (code + 1) * 2 ** (len - prevLen);
    prevLen = len;
    codes[sym] = { code, bits: len };
    sorted[i] = sym;
    if (countPerLen[len] === 0) { firstCode[len] = code; firstIndex[len] = i; }
    countPerLen[len]!++;
    if (len <= 8) {
      const span = 1 << (8 - len);
      for (let k = 0; k < span; k++) fast8[(code << (8 - len)) | k] = sym | (len << 16);
    }
  });
  return codes;
})();

/**
 * Decodes a Huffman-coded string literal into a latin1 string (one char per octet, so its length is
 * the octet count HPACK's table sizes use). Returns undefined on a malformed code (EOS inside the
 * string, padding longer than 7 bits or not all ones): the caller flags the header as degraded.
 */
export function huffmanDecode(buf: Uint8Array, start: number, end: number): string | undefined {
  let out = '';
  let acc = 0;      // pending bits, right-aligned
  let nbits = 0;
  let i = start;
  const codes: number[] = [];
  for (;;) {
    while (nbits <= 22 && i < end) { acc = ((acc << 8) | buf[i++]!) >>> 0; nbits += 8; }
    if (nbits === 0) break;
    if (nbits >= 8) {
      const hit = fast8[(acc >>> (nbits - 8)) & 0xff]!;
      if (hit !== 0) {
        const len = hit >>> 16;
        codes.push(hit & 0x1ff);
        nbits -= len;
        acc &= nbits === 0 ? 0 : (0xffffffff >>> (32 - nbits));
        if (codes.length >= 512) { out += String.fromCharCode.apply(null, codes); codes.length = 0; }
        continue;
      }
    }
    // Slow path: codes longer than 8 bits (or the tail): extend bit by bit.
    let code = 0;
    let len = 0;
    let sym = -1;
    while (len < MAX_LEN) {
      if (nbits === 0) {
        if (i >= end) break;
        acc = buf[i++]!; nbits = 8;
      }
      nbits--;
      code = code * 2 + ((acc >>> nbits) & 1);
      acc &= nbits === 0 ? 0 : (0xffffffff >>> (32 - nbits));
      len++;
      const n = countPerLen[len]!;
      if (n > 0 && code - firstCode[len]! < n && code >= firstCode[len]!) {
        sym = sorted[firstIndex[len]! + code - firstCode[len]!]!;
        break;
      }
    }
    if (sym < 0) {
      // Ran out of input: the leftover must be padding (at most 7 bits, all ones: an EOS prefix).
      if (len > 7 || code !== 2 ** len - 1) return undefined;
      break;
    }
    if (sym === EOS) return undefined;
    codes.push(sym);
    if (codes.length >= 512) { out += String.fromCharCode.apply(null, codes); codes.length = 0; }
  }
  if (codes.length) out += String.fromCharCode.apply(null, codes);
  return out;
}

/** Encodes a latin1 string with the Huffman code (tests and benchmarks build inputs with it). */
export function huffmanEncode(s: string): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let nbits = 0;
  for (let k = 0; k < s.length; k++) {
    const { code, bits } = huffmanCodes[s.charCodeAt(k) & 0xff]!;
    for (let b = bits - 1; b >= 0; b--) {
      acc = (acc << 1) | (Math.floor(code / 2 ** b) & 1);
      if (++nbits === 8) { out.push(acc); acc = 0; nbits = 0; }
    }
  }
  if (nbits > 0) out.push(((acc << (8 - nbits)) | (0xff >> nbits)) & 0xff);
  return Uint8Array.from(out);
}
