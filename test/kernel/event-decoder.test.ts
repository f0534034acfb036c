// The decoder alone (bytes in, objects out): records built from the layout constants, framed as
// the addon frames ring-buffer batches. No kernel needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventDecoder } from '../../agent/capture/event-decoder.js';
import { EVENT_FIELDS as F, EVENT_HEADER_SIZE } from '../../agent/capture/event-layout.js';

interface Rec {
  kind?: number; connId?: number; pid?: number; tid?: number; offset?: number; total?: number; payload?: string;
  dir?: number; family?: number; transport?: number; local?: number[]; remote?: number[]; lport?: number; rport?: number;
  role?: number; protocol?: number; syscall?: number; comm?: string;
}

function record(r: Rec): Buffer {
  const payload = Buffer.from(r.payload ?? '', 'latin1');
  const b = Buffer.alloc(EVENT_HEADER_SIZE + payload.length);
  b.writeBigUInt64LE(123456789n, F.ts_ns.offset);
  b.writeBigUInt64LE(BigInt(r.connId ?? 1), F.conn_id.offset);
  b.writeBigUInt64LE(77n, F.cgroup_id.offset);
  b.writeBigUInt64LE(BigInt(r.offset ?? 0), F.offset.offset);
  b.writeUInt32LE(r.pid ?? 100, F.pid.offset);
  b.writeUInt32LE(r.tid ?? r.pid ?? 100, F.tid.offset);
  b.writeInt32LE(7, F.fd.offset);
  b.writeUInt32LE(4026531840, F.netns.offset);
  b.writeUInt32LE(r.total ?? payload.length, F.total_bytes.offset);
  b.writeUInt32LE(payload.length, F.captured.offset);
  b.writeUInt16LE(r.lport ?? 40000, F.local_port.offset);
  b.writeUInt16LE(r.rport ?? 80, F.remote_port.offset);
  b[F.kind.offset] = r.kind ?? 1;
  b[F.role.offset] = r.role ?? 1;
  b[F.protocol.offset] = r.protocol ?? 1;
  b[F.family.offset] = r.family ?? 4;
  b[F.transport.offset] = r.transport ?? 6;
  b[F.direction.offset] = r.dir ?? 1;
  b[F.syscall.offset] = r.syscall ?? 5;
  Buffer.from(r.local ?? [127, 0, 0, 1]).copy(b, F.local_addr.offset);
  Buffer.from(r.remote ?? [127, 0, 0, 2]).copy(b, F.remote_addr.offset);
  b.write(r.comm ?? 'curl', F.comm.offset, 'latin1');
  payload.copy(b, EVENT_HEADER_SIZE);
  return b;
}

function batch(...records: Buffer[]): Buffer {
  return Buffer.concat(records.map((r) => {
    const framed = Buffer.alloc(4 + ((r.length + 7) & ~7));
    framed.writeUInt32LE(r.length, 0);
    r.copy(framed, 4);
    return framed;
  }));
}

test('decodes a data event: tuple, process, role, protocol, syscall, payload view', () => {
  const d = new EventDecoder();
  const b = batch(record({ payload: 'GET / HTTP/1.1\r\n', total: 80 }));
  const [e] = d.decodeBatch(b);
  assert.ok(e && e.kind === 'data');
  assert.deepEqual(e.tuple, { family: 4, transport: 'tcp', localAddr: '127.0.0.1', localPort: 40000, remoteAddr: '127.0.0.2', remotePort: 80 });
  assert.deepEqual(e.process, { pid: 100, tid: 100, comm: 'curl', cgroupId: 77n, netns: 4026531840 });
  assert.equal(e.role, 'client');
  assert.equal(e.protocol, 'http1');
  assert.equal(e.syscall, 'sendto');
  assert.equal(e.direction, 'egress');
  assert.equal(e.totalBytes, 80);
  assert.equal(Buffer.from(e.bytes).toString(), 'GET / HTTP/1.1\r\n');
  assert.equal(e.bytes.buffer, b.buffer, 'bytes is a view of the batch, not a copy');
  assert.equal(e.tsNs, 123456789);
});

test('reuses tuple and process objects for a known connection', () => {
  const d = new EventDecoder();
  const [a, b] = d.decodeBatch(batch(record({ payload: 'GET /a HTTP/1.1\r\n' }), record({ payload: 'x', offset: 17 })));
  assert.equal(a!.tuple, b!.tuple);
  assert.equal(a!.process, b!.process);
});

test('an offset jump becomes a gap event with the exact lost bytes', () => {
  const d = new EventDecoder();
  const evs = d.decodeBatch(batch(record({ payload: 'abcd', offset: 0 }), record({ payload: 'xy', offset: 1004 })));
  assert.deepEqual(evs.map((e) => e.kind), ['data', 'gap', 'data']);
  const gap = evs[1]!;
  assert.ok(gap.kind === 'gap');
  assert.equal(gap.lostBytes, 1000);
  assert.equal(gap.direction, 'egress');
  assert.equal(d.counters().gapBytes, 1000);
  // The other direction has its own stream: its first event sets the baseline, no gap.
  assert.equal(d.decodeBatch(batch(record({ payload: 'HTTP/1.1 200', dir: 2, offset: 500 }))).length, 1);
});

test('IPv6 and v4-mapped addresses; UDP peers change per datagram', () => {
  const d = new EventDecoder();
  const v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const mapped = (x: number[]) => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...x];
  const [a] = d.decodeBatch(batch(record({ connId: 5, family: 6, local: v6, remote: [...Array(15).fill(0), 1] })));
  assert.equal(a!.tuple.localAddr, '2001:db8::1');
  assert.equal(a!.tuple.remoteAddr, '::1');
  const [m] = d.decodeBatch(batch(record({ connId: 6, family: 6, local: mapped([10, 0, 0, 1]), remote: mapped([10, 0, 0, 2]) })));
  assert.deepEqual([m!.tuple.family, m!.tuple.localAddr, m!.tuple.remoteAddr], [4, '10.0.0.1', '10.0.0.2']);
  const [u1, u2] = d.decodeBatch(batch(
    record({ connId: 9, transport: 17, protocol: 3, remote: [127, 0, 0, 5], rport: 5000 }),
    record({ connId: 9, transport: 17, protocol: 3, remote: [127, 0, 0, 6], rport: 5000, offset: 1 })));
  assert.equal(u1!.tuple.remoteAddr, '127.0.0.5');
  assert.equal(u2!.tuple.remoteAddr, '127.0.0.6');
});

test('bad records are counted and skipped; the rest of the batch still decodes', () => {
  const d = new EventDecoder();
  const short = Buffer.alloc(10);
  const badKind = record({ kind: 99 });
  const lying = record({ payload: 'abc' });
  lying.writeUInt32LE(5000, F.captured.offset); // claims more payload than the record holds
  const evs = d.decodeBatch(batch(short, badKind, lying, record({ payload: 'ok' })));
  assert.equal(evs.length, 1);
  assert.equal(d.counters().decodeErrors, 3);
  // Truncated framing: counted, no throw.
  assert.doesNotThrow(() => d.decodeBatch(Buffer.from([200, 0, 0, 0, 1, 2])));
  assert.equal(d.counters().decodeErrors, 4);
});

test('close keeps the known tuple and forgets the connection', () => {
  const d = new EventDecoder();
  d.decodeBatch(batch(record({ connId: 3, kind: 3, lport: 8080, rport: 5555, role: 2 })));
  const [c] = d.decodeBatch(batch(record({ connId: 3, kind: 4, lport: 0, rport: 5555 })));
  assert.equal(c!.kind, 'close');
  assert.equal(c!.tuple.localPort, 8080);
  assert.equal(d.counters().cachedConnections, 0);
});
