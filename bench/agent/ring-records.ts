// Ring-buffer batches as the kernel capture hands them to userspace: one Buffer of records, each
// [u32 LE length][struct sockeye_event + payload][pad to 8], written with the generated layout
// (agent/capture/event-layout.ts), so the bench's input goes through the real EventDecoder.
// The traffic: a Node HTTP/1.1 server on keep-alive connections (request read, response writev).
import { EVENT_FIELDS as F, EVENT_HEADER_SIZE } from '../../agent/capture/event-layout.js';
import { DIR_EGRESS, DIR_INGRESS, KIND_DATA } from '../../agent/capture/event-names.js';
import { EVENT_ENUMS } from '../../agent/capture/event-layout.js';

const E = EVENT_ENUMS;
const enc = new TextEncoder();
const PATHS = ['/api/users/', '/api/orders/', '/health', '/api/items/'];
const BATCH_BYTES = 256 * 1024;

function record(b: Buffer, at: number, f: { connId: number; tsNs: number; offset: number; port: number; egress: boolean; payload: Uint8Array }): number {
  const len = EVENT_HEADER_SIZE + f.payload.length;
  b.writeUInt32LE(len, at);
  const r = at + 4;
  b.fill(0, r, r + EVENT_HEADER_SIZE);
  const u64 = (off: number, v: number) => { b.writeUInt32LE(v >>> 0, r + off); b.writeUInt32LE(Math.floor(v / 4294967296), r + off + 4); };
  u64(F.ts_ns.offset, f.tsNs);
  u64(F.conn_id.offset, f.connId);
  u64(F.cgroup_id.offset, 1);
  u64(F.offset.offset, f.offset);
  b.writeUInt32LE(process.pid, r + F.pid.offset);
  b.writeUInt32LE(process.pid, r + F.tid.offset);
  b.writeInt32LE(20 + (f.connId % 1000), r + F.fd.offset);
  b.writeUInt32LE(4026531840, r + F.netns.offset);
  b.writeUInt32LE(f.payload.length, r + F.total_bytes.offset);
  b.writeUInt32LE(f.payload.length, r + F.captured.offset);
  b.writeUInt16LE(8080, r + F.local_port.offset);
  b.writeUInt16LE(f.port, r + F.remote_port.offset);
  b[r + F.kind.offset] = KIND_DATA;
  b[r + F.role.offset] = E.sockeye_role.SOCKEYE_ROLE_SERVER;
  b[r + F.protocol.offset] = E.sockeye_protocol.SOCKEYE_PROTO_HTTP1;
  b[r + F.family.offset] = 4;
  b[r + F.transport.offset] = 6;
  b[r + F.direction.offset] = f.egress ? DIR_EGRESS : DIR_INGRESS;
  b[r + F.syscall.offset] = f.egress ? E.sockeye_syscall.SOCKEYE_SYS_WRITEV : E.sockeye_syscall.SOCKEYE_SYS_READ;
  b.set([127, 0, 0, 1], r + F.local_addr.offset);
  b.set([127, 0, 0, 1], r + F.remote_addr.offset);
  b.write('node', r + F.comm.offset, 'latin1');
  b.set(f.payload, r + EVENT_HEADER_SIZE);
  return 4 + ((len + 7) & ~7);
}

/** Yields ring-buffer batches of about 256 KiB holding `count` transactions (2 records each), made on the fly. */
export function* ringBatches(count: number, connections = 64, firstConn = 1000): Generator<Buffer> {
  const offsets = new Map<number, [number, number]>();
  let ts = 1_000_000_000;
  let b = Buffer.allocUnsafe(BATCH_BYTES + 32 * 1024);
  let p = 0;
  for (let i = 0; i < count; i++) {
    const c = i % connections;
    const connId = firstConn + c;
    const off = offsets.get(connId) ?? [0, 0];
    const path = PATHS[i % PATHS.length]! + (i % PATHS.length === 2 ? '' : String(i % 997));
    const req = enc.encode(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: bench/1\r\nAccept: */*\r\n\r\n`);
    const status = i % 50 === 0 ? '500 Internal Server Error' : '200 OK';
    const res = enc.encode(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nDate: Sun, 22 Nov 2026 07:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 17\r\n\r\n{"ok":true,"n":1}`);
    p += record(b, p, { connId, tsNs: ts, offset: off[0], port: 40000 + c, egress: false, payload: req });
    ts += 180_000;
    p += record(b, p, { connId, tsNs: ts, offset: off[1], port: 40000 + c, egress: true, payload: res });
    ts += 20_000;
    offsets.set(connId, [off[0] + req.length, off[1] + res.length]);
    if (p >= BATCH_BYTES) {
      yield b.subarray(0, p);
      b = Buffer.allocUnsafe(BATCH_BYTES + 32 * 1024);
      p = 0;
    }
  }
  if (p > 0) yield b.subarray(0, p);
}

export const ringBatchList = (count: number, connections = 64, firstConn = 1000): Buffer[] => [...ringBatches(count, connections, firstConn)];
