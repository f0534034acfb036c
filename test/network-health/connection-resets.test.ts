// The per-connection reset memory the span builder asks: only resets of a real socket, matched by
// network namespace and both ends within the transaction's time, bounded in size and age.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionResets } from '../../agent/network-health/connection-resets.js';
import { ResetReasons } from '../../agent/network-health/reset-reasons.js';
import type { TcpEvent } from '../../agent/network-health/tcp-event-decoder.js';
import type { SocketTuple } from '../../agent/capture/capture-events.js';

const reasons = new ResetReasons(new Map([[5, 'tcp_state']]));
const tuple: SocketTuple = { family: 4, transport: 'tcp', localAddr: '10.0.0.1', localPort: 40000, remoteAddr: '10.0.0.2', remotePort: 80 };
const ev = (o: Partial<TcpEvent>): TcpEvent => ({ kind: 'reset_received', tsNs: 1e9, sock: 1n, role: 'client', errno: 0, state: 1, noSocket: false,
  netns: 7, localAddr: tuple.localAddr, localPort: tuple.localPort, remoteAddr: tuple.remoteAddr, remotePort: tuple.remotePort, ...o });

test('a reset is found by netns and both ends, within the window, with its side, state and reason', () => {
  let drained = 0;
  const r = new ConnectionResets(reasons, () => drained++);
  r.record(ev({ kind: 'reset_sent', resetReason: 5 }));
  assert.deepEqual(r.find(7, tuple, 0, 2e9), { direction: 'sent', state: 'established', reason: 'tcp_state', tsNs: 1e9 });
  assert.equal(drained, 1, 'the ring is drained before looking');
  assert.equal(r.find(8, tuple, 0, 2e9), undefined, 'another namespace');
  assert.equal(r.find(7, { ...tuple, localPort: 40001 }, 0, 2e9), undefined, 'another connection');
  assert.equal(r.find(7, tuple, 1.5e9, 2e9), undefined, 'a reset before the transaction began');
  assert.equal(r.find(7, tuple, 0, 0.5e9), undefined, 'a reset after it ended');
});

test('resets for no socket and other kinds are not kept; the memory is bounded and ages out', () => {
  const r = new ConnectionResets(reasons, undefined, 2, 10e9);
  r.record(ev({ kind: 'reset_sent', noSocket: true, sock: 0n }));
  r.record(ev({ kind: 'close' }));
  assert.equal(r.size, 0);
  for (let p = 1; p <= 3; p++) r.record(ev({ localPort: p, tsNs: p * 1e9 }));
  assert.equal(r.size, 2);
  assert.equal(r.evicted, 1);
  assert.equal(r.find(7, { ...tuple, localPort: 1 }, 0, 1e12), undefined, 'the oldest went first');
  r.record(ev({ localPort: 9, tsNs: 12.5e9 }));
  assert.equal(r.find(7, { ...tuple, localPort: 2 }, 0, 1e12), undefined, 'older than 10 s before the newest');
  assert.ok(r.find(7, { ...tuple, localPort: 3 }, 0, 1e12));
});
