// The kernel matrix: the BPF object as built (build/bpf/sockeye.bpf.o) on Debian's cloud kernels,
// each booted in qemu. Inside, test/kernel-matrix/matrix-loader.c loads it configured as the agent
// configures it, attaches every program, drives loopback HTTP/1.1, DNS over UDP and HTTP/2 from a
// child process and prints every event it reads from the ring buffer. Here we check those events
// against what the child's sockets really did (ports from getsockname, byte counts from the calls).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { KERNEL_COUNTERS } from '../../agent/capture/event-names.js';
import { bootKernel, HOST, kernelRelease, missingPieces, runOnHost, type GuestRun } from './guest-boot.js';

interface Kernel {
  suite: string;
  label: string;
  /** Set while the current object is known not to load there: a load failure is then reported as
   * TODO with the verifier's words; if the object does load, every check applies as usual. */
  knownLoadFailure?: string;
}

const KERNELS: Kernel[] = [
  { suite: 'bullseye', label: '5.10 (Debian 11, EKS AL2 class)', knownLoadFailure: 'the object needs 6.2+ kfuncs and 5.11+ task storage (issue 11, portability)' },
  { suite: 'bookworm', label: '6.1 (Debian 12, GKE COS / AL2023 class)', knownLoadFailure: 'the object needs the bpf_rdonly_cast kfunc, 6.2+ (issue 11, portability)' },
  { suite: 'trixie', label: '6.12 (Debian 13)' },
  { suite: 'trixie-backports', label: 'newest Debian kernel (trixie-backports)' },
  { suite: HOST, label: 'this machine\'s kernel (no VM)' },
];

// SOCKEYE_MATRIX_KERNELS=bookworm,trixie narrows a run (while working on one kernel); all by default.
const selected = process.env.SOCKEYE_MATRIX_KERNELS?.split(',').map((s) => s.trim()).filter(Boolean);
const wanted = (k: Kernel) => !selected || selected.includes(k.suite);
const BOOT_TIMEOUT_MS = 200_000;
const PARALLEL_BOOTS = 2; // TCG is one host thread per guest CPU; the machine has two cores

type Rec = Record<string, unknown>;
interface Exchange { exchange: string; transport: string; clientPort: number; serverPort: number; requestBytes: number; responseBytes: number; pid: number }
interface Ev {
  event: string; role: string; protocol: string; direction: string; pid: number; family: number; transport: number;
  local: string; localPort: number; remote: string; remotePort: number; totalBytes: number; captured: number; head: string;
}

// Boots start when the file loads, PARALLEL_BOOTS at a time; each test awaits its own.
const runs = new Map<string, Promise<GuestRun>>();
{
  const queue: Array<() => void> = [];
  let free = PARALLEL_BOOTS;
  const take = () => new Promise<void>((r) => { if (free > 0) { free--; r(); } else queue.push(r); });
  const give = () => { const next = queue.shift(); if (next) next(); else free++; };
  for (const k of KERNELS) {
    if (!wanted(k) || missingPieces(k.suite).length > 0) continue;
    const run = take().then(() => (k.suite === HOST ? runOnHost(BOOT_TIMEOUT_MS) : bootKernel(k.suite, BOOT_TIMEOUT_MS))).finally(give);
    run.catch(() => undefined); // handled here so an early failure waits for its test, which reports it
    runs.set(k.suite, run);
  }
}

const first = (rs: Rec[], key: string) => rs.find((r) => key in r);
const describe = (run: GuestRun) => run.records.filter((r) => 'libbpf' in r || 'error' in r).map((r) => JSON.stringify(r)).join('\n');

/** The object's load failure, in the verifier's or libbpf's words (the last lines name the cause). */
function loadFailure(run: GuestRun): string | undefined {
  const err = run.records.find((r) => r.error === 'open' || r.error === 'load' || r.error === 'configure');
  if (!err) return undefined;
  const log = run.records.filter((r) => 'libbpf' in r).map((r) => String(r.libbpf));
  // A verifier log ends "<reason>" then "processed N insns ...": keep the program, the last source
  // line the verifier reached and the reason.
  const end = log.findIndex((l) => /^processed \d+ insns/.test(l));
  const prog = log.map((l) => /prog '([^']+)': failed to load/.exec(l)?.[1]).find(Boolean);
  const source = log.slice(0, Math.max(end, 0)).reverse().find((l) => l.startsWith('; '));
  const cause = end > 0
    ? [prog ? `program ${prog}` : '', source?.slice(2) ?? '', log[end - 1]!]
    : log.filter((l) => !/failed to load object/.test(l));
  return `${String(err.error)} failed (${String(err.message)}): ${[err.error === 'load' ? '' : String(err.what), ...cause].filter(Boolean).join(' — ')}`;
}

function checkExchange(ex: Exchange, events: Ev[], protocol: string, headStart: string): void {
  const tcp = ex.transport === 'tcp';
  const ip = tcp ? 6 : 17;
  const mine = events.filter((e) => e.pid === ex.pid && e.event === 'data' && e.transport === ip &&
    (e.localPort === ex.clientPort || e.localPort === ex.serverPort));
  const at = (port: number, direction: string) => mine.filter((e) => e.localPort === port && e.direction === direction);
  const show = JSON.stringify(mine.map((e) => [e.role, e.protocol, e.direction, e.localPort, e.remotePort, e.totalBytes]));
  const one = (port: number, direction: string): Ev => {
    const found = at(port, direction);
    assert.equal(found.length, 1, `${ex.exchange}: one ${direction} event on port ${port}, got ${show}`);
    return found[0]!;
  };
  const cOut = one(ex.clientPort, 'egress');
  const sIn = one(ex.serverPort, 'ingress');
  const sOut = one(ex.serverPort, 'egress');
  const cIn = one(ex.clientPort, 'ingress');
  for (const [e, role] of [[cOut, 'client'], [cIn, 'client'], [sIn, 'server'], [sOut, 'server']] as const) {
    assert.equal(e.protocol, protocol, `${ex.exchange} ${role} ${e.direction}: protocol`);
    assert.equal(e.role, role, `${ex.exchange} ${e.direction} on port ${e.localPort}: role`);
    assert.equal(e.family, 4);
    assert.equal(e.captured, e.totalBytes, 'small messages are captured whole');
  }
  assert.equal(cOut.totalBytes, ex.requestBytes, `${ex.exchange}: request bytes sent`);
  assert.equal(sIn.totalBytes, ex.requestBytes, `${ex.exchange}: request bytes received`);
  assert.equal(sOut.totalBytes, ex.responseBytes, `${ex.exchange}: response bytes sent`);
  assert.equal(cIn.totalBytes, ex.responseBytes, `${ex.exchange}: response bytes received`);
  assert.ok(cOut.head.startsWith(headStart), `${ex.exchange}: request payload starts ${JSON.stringify(headStart)}, got ${JSON.stringify(cOut.head)}`);
  // Tuples: both ends on loopback, each naming the other. An unconnected UDP client has no local
  // address (bound to 0.0.0.0) and learns no peer from recvfrom(..., NULL): only ports are checked there.
  assert.deepEqual([cOut.remote, cOut.remotePort], ['127.0.0.1', ex.serverPort], `${ex.exchange}: client's peer`);
  assert.deepEqual([sIn.local, sIn.remote, sIn.remotePort], ['127.0.0.1', '127.0.0.1', ex.clientPort], `${ex.exchange}: server's tuple`);
  assert.deepEqual([sOut.remote, sOut.remotePort], ['127.0.0.1', ex.clientPort], `${ex.exchange}: server's reply peer`);
  if (tcp) {
    assert.deepEqual([cIn.local, cIn.remote, cIn.remotePort], ['127.0.0.1', '127.0.0.1', ex.serverPort], `${ex.exchange}: client's tuple`);
    const life = events.filter((e) => e.pid === ex.pid && e.event !== 'data');
    const has = (event: string, port: number, role: string) => life.some((e) => e.event === event && e.localPort === port && e.role === role);
    assert.ok(has('connect', ex.clientPort, 'client'), `${ex.exchange}: connect event`);
    assert.ok(has('accept', ex.serverPort, 'server'), `${ex.exchange}: accept event`);
    assert.ok(has('close', ex.clientPort, 'client') && has('close', ex.serverPort, 'server'), `${ex.exchange}: close events`);
  }
}

function checkCapture(run: GuestRun): void {
  const programs = run.records.filter((r) => 'program' in r);
  assert.ok(programs.length > 0, 'programs listed');
  const failed = programs.filter((p) => p.attached !== true);
  assert.deepEqual(failed, [], `every program attaches:\n${describe(run)}`);
  const done = first(run.records, 'done');
  assert.ok(done, `the loader finished (timed out: ${run.timedOut}):\n${describe(run)}`);
  assert.equal(done.childStatus, 0, `traffic child exited cleanly:\n${describe(run)}`);
  const events = run.records.filter((r) => 'event' in r) as unknown as Ev[];
  assert.ok(!events.some((e) => e.pid === done.loaderPid), 'the loader (self_pid) is never traced');
  const counters = (first(run.records, 'counters')?.counters ?? []) as number[];
  const lostAt = KERNEL_COUNTERS.find(([name]) => name === 'lostEvents')![1];
  assert.equal(counters[lostAt], 0, 'no event lost');
  const exchanges = run.records.filter((r) => 'exchange' in r) as unknown as Exchange[];
  const byName = (n: string) => { const e = exchanges.find((x) => x.exchange === n); assert.ok(e, `exchange ${n} ran`); return e; };
  checkExchange(byName('http1'), events, 'http1', 'GET /matrix HTTP/1.1');
  checkExchange(byName('dns'), events, 'dns', '\u005a\u0017\u0001\u0000');
  checkExchange(byName('http2'), events, 'http2', 'PRI * HTTP/2.0');
}

for (const k of KERNELS) {
  const skip = wanted(k) ? false : `not in SOCKEYE_MATRIX_KERNELS=${process.env.SOCKEYE_MATRIX_KERNELS}`;
  test(`kernel matrix: ${k.label}`, { timeout: BOOT_TIMEOUT_MS * 3, skip }, async (t: TestContext) => {
    const missing = missingPieces(k.suite);
    assert.deepEqual(missing, [], `missing for the matrix (scripts/setup.sh provides them): ${missing.join(', ')}`);
    const run = await runs.get(k.suite)!;
    const kernel = String(first(run.records, 'kernel')?.kernel ?? kernelRelease(k.suite));
    t.diagnostic(`${kernel}: guest ran ${run.seconds.toFixed(1)} s${run.timedOut ? ' (timed out)' : ''}`);
    assert.ok(first(run.records, 'kernel'), `the guest started the loader (timed out: ${run.timedOut}); console:\n${run.console.slice(-3000)}`);
    assert.equal(kernel, kernelRelease(k.suite), 'the guest runs the fetched kernel');
    assert.deepEqual(run.garbled, [], 'console lines intact');
    const failure = loadFailure(run);
    // Only the kernel refusing the object is tolerated there; a loader/object mismatch never is.
    if (failure?.startsWith('load failed') && k.knownLoadFailure) {
      t.diagnostic(`${kernel}: ${failure}`);
      t.todo(`${k.knownLoadFailure}: ${failure}`);
      return;
    }
    assert.equal(failure, undefined, `${kernel}: ${failure}\n${describe(run)}`);
    checkCapture(run);
  });
}
