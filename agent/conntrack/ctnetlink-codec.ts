// ctnetlink wire format (linux/netfilter/nfnetlink_conntrack.h): builds the dump request and decodes
// conntrack messages — dump replies and NEW/UPDATE/DESTROY events share one layout — into tuples.
// Bytes in, objects out; malformed input yields an error result, never a throw.

export const NETLINK_NETFILTER = 12;
/** Multicast groups (NFNLGRP_CONNTRACK_*): subscribe to all three. */
export const CT_GROUPS = { new: 1, update: 2, destroy: 3 } as const;

const NFNL_SUBSYS_CTNETLINK = 1;
const IPCTNL_MSG_CT_NEW = 0;
const IPCTNL_MSG_CT_GET = 1;
const IPCTNL_MSG_CT_DELETE = 2;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
const NLMSG_HDRLEN = 16;
const NFGEN_HDRLEN = 4;

// Top-level and nested attribute numbers we read.
const CTA_TUPLE_ORIG = 1;
const CTA_TUPLE_REPLY = 2;
const CTA_STATUS = 3;
const CTA_TUPLE_IP = 1;
const CTA_TUPLE_PROTO = 2;
const CTA_IP_V4_SRC = 1;
const CTA_IP_V4_DST = 2;
const CTA_IP_V6_SRC = 3;
const CTA_IP_V6_DST = 4;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_SRC_PORT = 2;
const CTA_PROTO_DST_PORT = 3;
const NLA_TYPE_MASK = 0x3fff;

/** conntrack status bits (IPS_*) that tell a translation happened. */
export const IPS_SRC_NAT = 1 << 4;
export const IPS_DST_NAT = 1 << 5;

export interface CtTuple {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** IP protocol number: 6 TCP, 17 UDP, 132 SCTP. */
  proto: number;
}

export interface CtEntry {
  /** new: NEW or UPDATE event, or a dump row; destroy: DESTROY event. */
  kind: 'new' | 'destroy';
  orig: CtTuple;
  reply: CtTuple;
  status: number;
}

export type CtMessage =
  | { type: 'entry'; entry: CtEntry }
  | { type: 'done' }
  | { type: 'error'; errno: number }
  | { type: 'skip' }                       // a message we do not use (other subsystem, ack)
  | { type: 'malformed'; reason: string };

/** IPCTNL_MSG_CT_GET with NLM_F_DUMP for both IPv4 and IPv6 (family AF_UNSPEC). */
export function encodeDumpRequest(seq: number, portId = 0): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + NFGEN_HDRLEN);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET, 4);
  b.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  b.writeUInt32LE(portId >>> 0, 12);
  // nfgenmsg: family 0 (AF_UNSPEC), version 0, res_id 0.
  return b;
}

/** Splits one datagram into netlink messages and decodes each. */
export function decodeDatagram(buf: Buffer): CtMessage[] {
  const out: CtMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      out.push({ type: 'malformed', reason: `netlink message length ${len} at offset ${off} overruns a ${buf.length}-byte datagram` });
      return out;
    }
    out.push(decodeMessage(buf.subarray(off, off + len)));
    off += align4(len);
  }
  return out;
}

function decodeMessage(m: Buffer): CtMessage {
  const type = m.readUInt16LE(4);
  if (type === NLMSG_DONE) return { type: 'done' };
  if (type === NLMSG_ERROR) {
    const errno = m.length >= NLMSG_HDRLEN + 4 ? -m.readInt32LE(NLMSG_HDRLEN) : -1;
    return errno === 0 ? { type: 'skip' } : { type: 'error', errno };
  }
  if (type >> 8 !== NFNL_SUBSYS_CTNETLINK) return { type: 'skip' };
  const msg = type & 0xff;
  if (msg !== IPCTNL_MSG_CT_NEW && msg !== IPCTNL_MSG_CT_DELETE) return { type: 'skip' };
  if (m.length < NLMSG_HDRLEN + NFGEN_HDRLEN) return { type: 'malformed', reason: 'conntrack message shorter than its headers' };
  const attrs = attributes(m, NLMSG_HDRLEN + NFGEN_HDRLEN, m.length);
  if (!attrs) return { type: 'malformed', reason: 'attribute overruns the message' };
  const origA = attrs.get(CTA_TUPLE_ORIG);
  const replyA = attrs.get(CTA_TUPLE_REPLY);
  if (!origA || !replyA) return { type: 'malformed', reason: 'conntrack message without original and reply tuples' };
  const orig = tuple(m, origA);
  const reply = tuple(m, replyA);
  if (typeof orig === 'string') return { type: 'malformed', reason: `original tuple: ${orig}` };
  if (typeof reply === 'string') return { type: 'malformed', reason: `reply tuple: ${reply}` };
  const st = attrs.get(CTA_STATUS);
  const status = st && st[1] - st[0] >= 4 ? m.readUInt32BE(st[0]) : 0;
  return { type: 'entry', entry: { kind: msg === IPCTNL_MSG_CT_DELETE ? 'destroy' : 'new', orig, reply, status } };
}

type Span = [start: number, end: number];

/** Attribute type → payload [start, end) within `b`; undefined when one overruns. */
function attributes(b: Buffer, start: number, end: number): Map<number, Span> | undefined {
  const out = new Map<number, Span>();
  let off = start;
  while (off + 4 <= end) {
    const len = b.readUInt16LE(off);
    if (len < 4 || off + len > end) return undefined;
    out.set(b.readUInt16LE(off + 2) & NLA_TYPE_MASK, [off + 4, off + len]);
    off += align4(len);
  }
  return out;
}

function tuple(b: Buffer, [start, end]: Span): CtTuple | string {
  const t = attributes(b, start, end);
  if (!t) return 'attribute overruns the tuple';
  const ipA = t.get(CTA_TUPLE_IP);
  const protoA = t.get(CTA_TUPLE_PROTO);
  if (!ipA || !protoA) return 'missing ip or proto';
  const ip = attributes(b, ipA[0], ipA[1]);
  const pr = attributes(b, protoA[0], protoA[1]);
  if (!ip || !pr) return 'attribute overruns the ip or proto section';
  const v4s = ip.get(CTA_IP_V4_SRC), v4d = ip.get(CTA_IP_V4_DST);
  const v6s = ip.get(CTA_IP_V6_SRC), v6d = ip.get(CTA_IP_V6_DST);
  let src: string | undefined, dst: string | undefined;
  if (v4s && v4d && v4s[1] - v4s[0] === 4 && v4d[1] - v4d[0] === 4) {
    src = ipv4(b, v4s[0]); dst = ipv4(b, v4d[0]);
  } else if (v6s && v6d && v6s[1] - v6s[0] === 16 && v6d[1] - v6d[0] === 16) {
    src = ipv6(b.subarray(v6s[0], v6s[1])); dst = ipv6(b.subarray(v6d[0], v6d[1]));
  } else return 'no IPv4 or IPv6 address pair';
  const num = pr.get(CTA_PROTO_NUM);
  if (!num) return 'missing protocol number';
  const sp = pr.get(CTA_PROTO_SRC_PORT), dp = pr.get(CTA_PROTO_DST_PORT);
  // ICMP and friends carry no ports: 0 keeps them out of port-keyed lookups.
  return {
    src, dst, proto: b[num[0]]!,
    srcPort: sp && sp[1] - sp[0] >= 2 ? b.readUInt16BE(sp[0]) : 0,
    dstPort: dp && dp[1] - dp[0] >= 2 ? b.readUInt16BE(dp[0]) : 0,
  };
}

const align4 = (n: number) => (n + 3) & ~3;
const ipv4 = (b: Buffer, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

/** RFC 5952 text form (longest zero run compressed), with IPv4-mapped addresses as dotted quads. */
export function ipv6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((b[i]! << 8) | b[i + 1]!);
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
