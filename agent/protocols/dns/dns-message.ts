// DNS message decoder (RFC 1035) for passive capture: header, first question, answers (A, AAAA,
// CNAME/NS/PTR decoded, other types as hex). It never throws; a message cut short by the capture cap
// yields what was complete, flagged `incomplete`. Compression pointers are followed with a jump
// limit and must point backwards, so a loop cannot hang it.
import type { DnsAnswer } from '../transaction.js';

export interface DnsMessage {
  id: number;
  /** true: response (QR bit). */
  response: boolean;
  opcode: number;
  /** TC bit: the server truncated the answer (retry over TCP follows). */
  truncated: boolean;
  rcode: string;
  qdcount: number;
  ancount: number;
  qname?: string;
  qtype?: string;
  qclass?: string;
  answers: DnsAnswer[];
  /** The bytes ended before the sections the header announced (capped capture or malformed). */
  incomplete: boolean;
}

export const DNS_HEADER_LEN = 12;
const MAX_ANSWERS = 32;
const MAX_JUMPS = 32;
const MAX_RAW_BYTES = 64;

const TYPES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA',
  33: 'SRV', 35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY',
  64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
};
const CLASSES: Record<number, string> = { 1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY' };
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'DSOTYPENI'];

export const typeName = (t: number): string => TYPES[t] ?? `TYPE${t}`;
export const className = (c: number): string => CLASSES[c & 0x7fff] ?? `CLASS${c}`;
export const rcodeName = (r: number): string => RCODES[r] ?? `RCODE${r}`;

/** Cursor set by readName (module-level: no allocation per name). */
let nameEnd = 0;

/**
 * Reads a possibly compressed name at p in m[0, end). Returns undefined when malformed or cut short;
 * on success `nameEnd` is the offset just after the name's in-place bytes.
 */
export function readName(m: Uint8Array, p: number, end: number): string | undefined {
  let out = '';
  let jumps = 0;
  let after = -1;
  let len = 0;
  for (;;) {
    if (p >= end) return undefined;
    const b = m[p]!;
    if (b === 0) { if (after < 0) after = p + 1; break; }
    if ((b & 0xc0) === 0xc0) {
      if (p + 1 >= end) return undefined;
      const target = ((b & 0x3f) << 8) | m[p + 1]!;
      if (after < 0) after = p + 2;
      // Pointers must go backwards (to an earlier name): loops and forward tricks are rejected.
      if (target >= p || ++jumps > MAX_JUMPS) return undefined;
      p = target;
      continue;
    }
    if (b & 0xc0) return undefined; // 0x40/0x80 label types are obsolete
    if (p + 1 + b > end) return undefined;
    len += b + 1;
    if (len > 255) return undefined;
    for (let i = p + 1; i <= p + b; i++) {
      const c = m[i]!;
      // Keep names printable and unambiguous: escape dots and non-printable octets as \DDD.
      if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) out += String.fromCharCode(c);
      else out += '\\' + String(c).padStart(3, '0');
    }
    out += '.';
    p += 1 + b;
  }
  nameEnd = after;
  return out.length === 0 ? '.' : out.slice(0, -1);
}

/** Decodes m[start, end). Returns undefined when not even the 12-byte header is there. */
export function decodeDnsMessage(m: Uint8Array, start = 0, end = m.length): DnsMessage | undefined {
  if (end - start < DNS_HEADER_LEN) return undefined;
  const v = start === 0 ? m.subarray(0, end) : m.subarray(start, end);
  const n = v.length;
  const flags = (v[2]! << 8) | v[3]!;
  const msg: DnsMessage = {
    id: (v[0]! << 8) | v[1]!,
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    truncated: (flags & 0x0200) !== 0,
    rcode: rcodeName(flags & 0xf),
    qdcount: (v[4]! << 8) | v[5]!,
    ancount: (v[6]! << 8) | v[7]!,
    answers: [],
    incomplete: false,
  };
  let p = DNS_HEADER_LEN;
  for (let q = 0; q < msg.qdcount; q++) {
    const name = readName(v, p, n);
    if (name === undefined || nameEnd + 4 > n) { msg.incomplete = true; return msg; }
    p = nameEnd;
    if (q === 0) {
      msg.qname = name;
      msg.qtype = typeName((v[p]! << 8) | v[p + 1]!);
      msg.qclass = className((v[p + 2]! << 8) | v[p + 3]!);
    }
    p += 4;
  }
  for (let a = 0; a < msg.ancount; a++) {
    const name = readName(v, p, n);
    if (name === undefined || nameEnd + 10 > n) { msg.incomplete = true; return msg; }
    p = nameEnd;
    const type = (v[p]! << 8) | v[p + 1]!;
    const ttl = ((v[p + 4]! << 24) | (v[p + 5]! << 16) | (v[p + 6]! << 8) | v[p + 7]!) >>> 0;
    const rdlen = (v[p + 8]! << 8) | v[p + 9]!;
    p += 10;
    if (p + rdlen > n) { msg.incomplete = true; return msg; }
    if (msg.answers.length < MAX_ANSWERS) {
      const data = rdata(v, type, p, rdlen, n);
      msg.answers.push({ name, type: typeName(type), ttl, data });
    }
    p += rdlen;
  }
  return msg;
}

function rdata(v: Uint8Array, type: number, p: number, len: number, n: number): string {
  if (type === 1 && len === 4) return `${v[p]}.${v[p + 1]}.${v[p + 2]}.${v[p + 3]}`;
  if (type === 28 && len === 16) return ipv6Text(v, p);
  if (type === 5 || type === 2 || type === 12 || type === 39) {
    const name = readName(v, p, n); // pointers may reach anywhere earlier in the message
    if (name !== undefined) return name;
  }
  let hex = '';
  for (let i = p; i < p + Math.min(len, MAX_RAW_BYTES); i++) hex += v[i]!.toString(16).padStart(2, '0');
  return len > MAX_RAW_BYTES ? `${hex}…` : hex;
}

/** RFC 5952 text form: lower-case hex, longest run (≥2) of zero groups as '::'. */
export function ipv6Text(v: Uint8Array, p: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((v[p + 2 * i]! << 8) | v[p + 2 * i + 1]!);
  let bestAt = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}
