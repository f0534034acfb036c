// nh_record bytes (one ring-buffer record) → a TcpEvent. Never throws: a record of the wrong size
// or an unknown kind comes back as undefined and the caller counts it.
import { ipv4Text, ipv6Text, isV4Mapped } from '../capture/ip-address-text.js';
import {
  KIND_NAMES, RETRANSMIT_NAMES, TCP_RECORD_ENUMS, TCP_RECORD_FIELDS as F, TCP_RECORD_SIZE,
  type RetransmitKind, type TcpEventKind,
} from './tcp-event-layout.js';

export interface TcpEvent {
  kind: TcpEventKind;
  /** Nanoseconds since boot (CLOCK_BOOTTIME). */
  tsNs: number;
  /** Kernel socket address as a number (joins one connection's events); 0 when there was no socket. */
  sock: bigint;
  /** The socket's owner; undefined when it could not be attributed (socket older than the agent, listener unknown). */
  owner?: { pid: number; comm: string };
  role: 'client' | 'server' | 'unknown';
  /** connect: SYN sent → result; close: established → close. Undefined when the start was not seen. */
  durationS?: number;
  /** close: the socket's smoothed RTT. */
  srttS?: number;
  /** connect: whether the handshake completed. */
  established?: boolean;
  /** connect: the socket's errno when it failed (0 with established false: closed by the application). */
  errno: number;
  /** reset_sent: the kernel's enum sk_rst_reason value. */
  resetReason?: number;
  retransmit?: RetransmitKind;
  /** TCP state number (tcp_states.h) at the event; 0 when no socket. */
  state: number;
  /** A reset sent for a packet that matched no socket. */
  noSocket: boolean;
  netns: number;
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
}

const FLAG = TCP_RECORD_ENUMS.nh_flag;
const AF_INET6 = 10;
const TCP_ESTABLISHED = 1;

function addr(b: Buffer, at: number, family: number): string {
  if (family !== AF_INET6) return ipv4Text(b, at);
  return isV4Mapped(b, at) ? ipv4Text(b, at + 12) : ipv6Text(b, at);
}

function comm(b: Buffer): string {
  const s = b.subarray(F.comm.offset, F.comm.offset + F.comm.size);
  const end = s.indexOf(0);
  return s.subarray(0, end < 0 ? s.length : end).toString('latin1');
}

export function decodeTcpEvent(b: Buffer): TcpEvent | undefined {
  if (b.length < TCP_RECORD_SIZE) return undefined;
  const kind = KIND_NAMES[b[F.kind.offset]!];
  if (!kind) return undefined;
  const flags = b[F.flags.offset]!;
  const family = b.readUInt16LE(F.family.offset);
  const roleN = b[F.role.offset]!;
  const detail = b.readUInt16LE(F.detail.offset);
  const e: TcpEvent = {
    kind,
    tsNs: Number(b.readBigUInt64LE(F.ts_ns.offset)),
    sock: b.readBigUInt64LE(F.sock.offset),
    role: roleN === 1 ? 'client' : roleN === 2 ? 'server' : 'unknown',
    errno: b.readUInt32LE(F.error.offset),
    state: b[F.state.offset]!,
    noSocket: (flags & FLAG.NH_F_NO_SOCKET) !== 0,
    netns: b.readUInt32LE(F.netns.offset),
    localAddr: addr(b, F.local_addr.offset, family),
    localPort: b.readUInt16LE(F.local_port.offset),
    remoteAddr: addr(b, F.remote_addr.offset, family),
    remotePort: b.readUInt16LE(F.remote_port.offset),
  };
  if (flags & FLAG.NH_F_OWNER) e.owner = { pid: b.readUInt32LE(F.tgid.offset), comm: comm(b) };
  if (flags & FLAG.NH_F_START) e.durationS = Number(b.readBigUInt64LE(F.duration_ns.offset)) / 1e9;
  if (kind === 'connect') e.established = detail === TCP_ESTABLISHED;
  if (kind === 'close') e.srttS = b.readUInt32LE(F.srtt_us.offset) / 1e6;
  if (kind === 'reset_sent') e.resetReason = detail;
  if (kind === 'retransmit') e.retransmit = RETRANSMIT_NAMES[detail] ?? 'data';
  return e;
}
