// What NAT resolution adds to building a CLIENT span (docs/nat.md): the same HTTP client
// transactions built without a NAT table, with every connection in the table (hits), and with none
// in it (misses, which are also held and looked up again). Same run, side by side, with ratios.
// The table holds 65,536 translated connections (the watcher's default cap), as a busy node would.
// Run: node dist/bench/agent/nat-span-cost.js [transactions]
import { SpanBuilder } from '../../agent/signals/span-builder.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { RouteRegistry } from '../../agent/signals/route-template.js';
import { ProcessResources } from '../../agent/signals/process-resource.js';
import { NatLateLookup } from '../../agent/signals/nat-late-lookup.js';
import { NatTable } from '../../agent/conntrack/nat-table.js';
import type { CtEntry } from '../../agent/conntrack/ctnetlink-codec.js';
import type { Transaction } from '../../agent/protocols/transaction.js';

const N = Number(process.argv[2] ?? 200_000);
const CONNS = 65_536;
const clock = fromEpoch(1_700_000_000, 0);
const who = new ProcessResources().get({ pid: process.pid, tid: process.pid, comm: 'node', cgroupId: 1n, netns: 1 });

const clientAddr = (i: number) => `198.18.${1 + ((i >> 14) & 3)}.${2 + ((i >> 8) & 63)}`;
function tx(i: number): Transaction {
  const c = i % CONNS;
  return {
    protocol: 'http1', connId: i, role: 'client',
    tuple: { family: 4, transport: 'tcp', localAddr: clientAddr(c), localPort: 10_000 + (c & 255) * 200 + (c >> 14), remoteAddr: '198.18.100.10', remotePort: 80 },
    process: { pid: process.pid, tid: process.pid, comm: 'node', cgroupId: 1n, netns: 1 },
    startNs: 1e9 + i, endNs: 1e9 + i + 2e6, requestBytes: 100, responseBytes: 200,
    http: { request: { method: 'GET', target: '/checkout', path: '/checkout', host: 'checkout.shop', version: '1.1', sensitiveHeaders: [] }, response: { status: 200 } },
    anomalies: [],
  } as Transaction;
}
const txs = Array.from({ length: Math.min(N, CONNS) }, (_, i) => tx(i));

function table(filled: boolean): NatTable {
  const t = new NatTable(CONNS, 30_000);
  if (filled) for (const x of txs) {
    const u = x.tuple;
    t.apply({ kind: 'new', status: 0, orig: { src: u.localAddr, srcPort: u.localPort, dst: u.remoteAddr, dstPort: u.remotePort, proto: 6 },
      reply: { src: '198.18.2.2', srcPort: 8080, dst: u.localAddr, dstPort: u.localPort, proto: 6 } } as CtEntry);
  }
  return t;
}

function run(label: string, nat: NatTable | undefined): number {
  const b = new SpanBuilder(clock, new RouteRegistry(200), nat);
  let natted = 0;
  const released = (s: { attributes: Record<string, unknown> }) => { if (s.attributes['sockeye.nat.peer.address']) natted++; };
  // The pipeline's path for misses: marked at build, held, looked up again when released.
  const late = nat ? new NatLateLookup(nat, 0, released) : undefined;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const x = txs[i % txs.length]!;
    const r = b.build(x, who);
    if (typeof r === 'string') throw new Error(r);
    if (r.natMiss) late!.missed(r.span, x.tuple);
    if (!late?.hold(r.span)) released(r.span);
    if ((i & 2047) === 2047) late?.flush();
  }
  late?.flush();
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / N;
  console.log(`${label.padEnd(34)} ${us.toFixed(3)} µs/span  (${natted} of ${N} with NAT keys)`);
  return us;
}

// One warm-up pass each, then the measured pass.
const noNat = () => run('no NAT table (conntrack off)', undefined);
const hits = () => run('NAT table, every lookup hits', table(true));
const misses = () => run('NAT table, every lookup misses', table(false));
console.log(`warm-up (${N} client spans each):`);
noNat(); hits(); misses();
console.log('measured:');
const base = noNat();
const h = hits();
const m = misses();
console.log(`ratio hit/none ${(h / base).toFixed(2)}×, miss+late-retry/none ${(m / base).toFixed(2)}×`);
