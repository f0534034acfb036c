// Ring-buffer batches (bytes in) to typed capture events (objects out). One batch is a Buffer of
// records, each [u32 LE length][struct sockeye_event + payload][pad to 8] (see native-bpf.ts).
// Hot path: fixed offsets into the batch, no per-event strings for known connections (tuple and
// process objects are cached by connId), and DataEvent.bytes is a VIEW into the batch — consumers
// that keep bytes beyond the listener call must copy them.
import type {
  CaptureEvent, DataEvent, Direction, GapEvent, L7Protocol, ProcessInfo, Role, SocketTuple,
} from './capture-events.js';
import { EVENT_FIELDS as F, EVENT_HEADER_SIZE } from './event-layout.js';
import {
  DIR_EGRESS, KIND_ACCEPT, KIND_CLOSE, KIND_CONNECT, KIND_DATA, PROTOCOL_NAMES, ROLE_NAMES, SYSCALL_NAMES,
} from './event-names.js';
import { ipv4Text, ipv6Text, isV4Mapped } from './ip-address-text.js';

const TWO32 = 4294967296;

/** What the decoder remembers per connection between events. */
interface ConnCache {
  tuple: SocketTuple;
  process: ProcessInfo;
  /** Next expected stream offset per direction (-1: nothing seen yet). */
  nextEgress: number;
  nextIngress: number;
}

export interface DecoderCounters {
  events: number;
  records: number;
  decodeErrors: number;
  gaps: number;
  gapBytes: number;
  /** Data whose offset was behind the expected one (concurrent writers on one socket). */
  offsetRewinds: number;
  cachedConnections: number;
}

export class EventDecoder {
  private readonly conns = new Map<number, ConnCache>();
  private readonly c: DecoderCounters = {
    events: 0, records: 0, decodeErrors: 0, gaps: 0, gapBytes: 0, offsetRewinds: 0, cachedConnections: 0,
  };
  /** Bounds the cache when close events are lost; the oldest entries go first. */
  constructor(private readonly maxConnections = 262144) {}

  counters(): DecoderCounters {
    return { ...this.c, cachedConnections: this.conns.size };
  }

  /** Decodes every record of one batch into `out` (appending). Never throws for bad records. */
  decodeBatch(batch: Buffer, out: CaptureEvent[] = []): CaptureEvent[] {
    let p = 0;
    const end = batch.length;
    while (p + 4 <= end) {
      const len = batch.readUInt32LE(p);
      const rec = p + 4;
      if (rec + len > end) { this.c.decodeErrors++; break; } // framing broken: rest unusable
      this.c.records++;
      if (len < EVENT_HEADER_SIZE) this.c.decodeErrors++;
      else this.decodeRecord(batch, rec, len, out);
      p = rec + ((len + 7) & ~7);
    }
    return out;
  }

  private decodeRecord(b: Buffer, at: number, len: number, out: CaptureEvent[]): void {
    const kind = b[at + F.kind.offset]!;
    const captured = b.readUInt32LE(at + F.captured.offset);
    const role = ROLE_NAMES[b[at + F.role.offset]!];
    const protocol = PROTOCOL_NAMES[b[at + F.protocol.offset]!];
    if (kind < KIND_DATA || kind > KIND_CLOSE || captured > len - EVENT_HEADER_SIZE || !role || !protocol) {
      this.c.decodeErrors++;
      return;
    }
    const connId = b.readUInt32LE(at + F.conn_id.offset) + b.readUInt32LE(at + F.conn_id.offset + 4) * TWO32;
    const tsNs = b.readUInt32LE(at + F.ts_ns.offset) + b.readUInt32LE(at + F.ts_ns.offset + 4) * TWO32;
    const fd = b.readInt32LE(at + F.fd.offset);
    // A close may come from sock:inet_sock_set_state (softirq: another task's context, the socket
    // already unhashed): keep what was known about the connection.
    const cached = kind === KIND_CLOSE ? this.conns.get(connId) : undefined;
    const cache = cached ?? this.connection(b, at, connId);
    const base = { tsNs, connId, fd, process: cache.process, tuple: cache.tuple, role: role as Role, protocol: protocol as L7Protocol };
    if (kind === KIND_DATA) {
      const dirCode = b[at + F.direction.offset]!;
      const direction: Direction = dirCode === DIR_EGRESS ? 'egress' : 'ingress';
      const offset = b.readUInt32LE(at + F.offset.offset) + b.readUInt32LE(at + F.offset.offset + 4) * TWO32;
      const totalBytes = b.readUInt32LE(at + F.total_bytes.offset);
      const expected = dirCode === DIR_EGRESS ? cache.nextEgress : cache.nextIngress;
      if (expected >= 0 && offset > expected) {
        const gap: GapEvent = { kind: 'gap', ...base, direction, lostBytes: offset - expected };
        this.c.gaps++;
        this.c.gapBytes += gap.lostBytes;
        this.c.events++;
        out.push(gap);
      } else if (expected >= 0 && offset < expected) {
        this.c.offsetRewinds++;
      }
      if (dirCode === DIR_EGRESS) cache.nextEgress = offset + totalBytes;
      else cache.nextIngress = offset + totalBytes;
      const start = at + EVENT_HEADER_SIZE;
      const ev: DataEvent = {
        kind: 'data', ...base, direction, syscall: SYSCALL_NAMES[b[at + F.syscall.offset]!] ?? 'unknown',
        bytes: b.subarray(start, start + captured), totalBytes, offset,
      };
      this.c.events++;
      out.push(ev);
      return;
    }
    this.c.events++;
    if (kind === KIND_CLOSE) {
      this.conns.delete(connId);
      out.push({ kind: 'close', ...base });
    } else {
      out.push({ kind: kind === KIND_CONNECT ? 'connect' : 'accept', ...base });
      if (kind === KIND_ACCEPT || kind === KIND_CONNECT) {
        cache.nextEgress = -1;
        cache.nextIngress = -1;
      }
    }
  }

  /** The cached tuple/process of a connection, refreshed when the record says they changed. */
  private connection(b: Buffer, at: number, connId: number): ConnCache {
    let c = this.conns.get(connId);
    const pid = b.readUInt32LE(at + F.pid.offset);
    const tid = b.readUInt32LE(at + F.tid.offset);
    const lport = b.readUInt16LE(at + F.local_port.offset);
    const rport = b.readUInt16LE(at + F.remote_port.offset);
    if (c === undefined) {
      if (this.conns.size >= this.maxConnections) {
        const oldest = this.conns.keys().next().value;
        if (oldest !== undefined) this.conns.delete(oldest);
      }
      c = { tuple: readTuple(b, at), process: readProcess(b, at), nextEgress: -1, nextIngress: -1 };
      this.conns.set(connId, c);
      return c;
    }
    const t = c.tuple;
    // UDP sockets change peers per datagram; compare the remote end (TCP: a cheap sanity check).
    if (t.localPort !== lport || t.remotePort !== rport ||
        (t.transport === 'udp' && readTupleRemoteText(b, at) !== t.remoteAddr)) {
      c.tuple = readTuple(b, at);
    }
    if (c.process.pid !== pid || c.process.tid !== tid) c.process = readProcess(b, at);
    return c;
  }
}

function addrText(b: Buffer, at: number, family: number): string {
  if (family === 4) return ipv4Text(b, at);
  return isV4Mapped(b, at) ? ipv4Text(b, at + 12) : ipv6Text(b, at);
}

function readTupleRemoteText(b: Buffer, at: number): string {
  return addrText(b, at + F.remote_addr.offset, b[at + F.family.offset]!);
}

export function readTuple(b: Buffer, at: number): SocketTuple {
  const fam = b[at + F.family.offset]!;
  const mapped = fam === 6 && isV4Mapped(b, at + F.local_addr.offset) &&
    (isV4Mapped(b, at + F.remote_addr.offset) || isZero16(b, at + F.remote_addr.offset));
  return {
    family: fam === 4 || mapped ? 4 : 6,
    transport: b[at + F.transport.offset] === 17 ? 'udp' : 'tcp',
    localAddr: addrText(b, at + F.local_addr.offset, fam),
    localPort: b.readUInt16LE(at + F.local_port.offset),
    remoteAddr: addrText(b, at + F.remote_addr.offset, fam),
    remotePort: b.readUInt16LE(at + F.remote_port.offset),
  };
}

function isZero16(b: Buffer, at: number): boolean {
  for (let i = 0; i < 16; i++) if (b[at + i] !== 0) return false;
  return true;
}

export function readProcess(b: Buffer, at: number): ProcessInfo {
  const commStart = at + F.comm.offset;
  let commEnd = commStart;
  while (commEnd < commStart + F.comm.size && b[commEnd] !== 0) commEnd++;
  return {
    pid: b.readUInt32LE(at + F.pid.offset),
    tid: b.readUInt32LE(at + F.tid.offset),
    comm: b.toString('utf8', commStart, commEnd),
    cgroupId: b.readBigUInt64LE(at + F.cgroup_id.offset),
    netns: b.readUInt32LE(at + F.netns.offset),
  };
}
