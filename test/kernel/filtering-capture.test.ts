// Real kernel: what must NOT be captured, and what happens under overload.
// - bytes that match no protocol (TCP echo of random bytes, file I/O, even HTTP-looking bytes in
//   files) produce zero data events;
// - pid and cgroup include/exclude filters and self-exclusion hold;
// - a tiny ring buffer under load counts lost events in the kernel, userspace sees the exact lost
//   byte ranges as gap events, and nothing crashes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GapEvent } from '../../agent/capture/capture-events.js';
import { KernelCapture } from '../../agent/capture/kernel-capture.js';
import { peerPath, Recorder, run, startPeer, startServer, stopPeer, type Peer } from './helpers/capture-helpers.js';

const peers: Peer[] = [];
const recorders: Recorder[] = [];
const dir = mkdtempSync(join(tmpdir(), 'sockeye-noise-'));
after(() => { peers.forEach(stopPeer); recorders.forEach((r) => r.close()); rmSync(dir, { recursive: true, force: true }); });

test('random bytes over TCP and file reads/writes produce no data events', async () => {
  const rec = Recorder.open();
  recorders.push(rec);
  const echo = await startServer('noise', ['echo-server']);
  peers.push(echo);
  const client = await run(peerPath('noise'), ['echo-client', String(echo.port)]);
  assert.match(client.stdout, /^done \d+/);
  assert.ok(Number(client.stdout.split(' ')[1]) > 50_000, 'the echo really moved bytes');
  const files = await run(peerPath('noise'), ['files', dir]);
  assert.equal(files.stdout.trim(), 'done');
  // Control: a real HTTP exchange in the same window is captured, so silence above means something.
  const http = await startServer('http-server', ['127.0.0.1']);
  peers.push(http);
  const curl = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${http.port}/control`]);
  assert.ok(await rec.until(() => rec.data(curl.pid).length >= 2));
  rec.capture.pollNow();
  assert.equal(rec.data(client.pid).length, 0, 'echo client: no data events');
  assert.equal(rec.data(echo.pid).length, 0, 'echo server: no data events');
  assert.equal(rec.data(files.pid).length, 0, 'file I/O: no data events');
  assert.ok(rec.of(client.pid).some((e) => e.kind === 'connect'), 'the echo connection itself was seen');
  assert.ok(rec.capture.counters().unmatchedDataSyscalls! > 0, 'unmatched data is counted');
  rec.close();
});

test('pid filters: include only one process, exclude one; the agent itself is not traced unless asked', async () => {
  const http = await startServer('http-server', ['127.0.0.1']);
  peers.push(http);
  const rec = Recorder.open({ includePids: [http.pid] });
  recorders.push(rec);
  const curl = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${http.port}/only-server`]);
  assert.equal(curl.code, 0);
  // The test process (the "agent") talks HTTP too: it must not appear.
  const res = await fetch(`http://127.0.0.1:${http.port}/from-agent`);
  await res.text();
  assert.ok(await rec.until(() => rec.data(http.pid).filter((e) => e.direction === 'egress').length >= 2));
  assert.equal(rec.data(curl.pid).length, 0, 'curl is not included');
  assert.ok(rec.events.every((e) => e.process.pid === http.pid), 'only the included pid');
  rec.close();

  const rec2 = Recorder.open({ excludePids: [http.pid] });
  recorders.push(rec2);
  const curl2 = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${http.port}/excluded-server`]);
  assert.ok(await rec2.until(() => rec2.data(curl2.pid).some((e) => e.direction === 'ingress')));
  assert.equal(rec2.of(http.pid).length, 0, 'excluded server produces nothing');
  // Self-exclusion (the default) with no include list: this process's own HTTP is not traced
  // while curl's, made after it, is.
  await (await fetch(`http://127.0.0.1:${http.port}/from-agent-2`)).text();
  const curl3 = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${http.port}/after-agent`]);
  assert.ok(await rec2.until(() => rec2.data(curl3.pid).some((e) => e.direction === 'ingress')));
  assert.equal(rec2.of(process.pid).length, 0, 'self excluded');
  rec2.close();

  // Control: with excludeSelf off the same fetch is seen, so the check above can fail.
  const rec3 = Recorder.open({ excludeSelf: false, includePids: [process.pid] });
  recorders.push(rec3);
  await (await fetch(`http://127.0.0.1:${http.port}/from-agent-3`)).text();
  assert.ok(await rec3.until(() => rec3.data(process.pid).some((e) => e.direction === 'egress')), 'own traffic seen with excludeSelf: false');
  rec3.close();
});

test('bad options are rejected with the key and the reason', () => {
  assert.throws(() => KernelCapture.open({ payloadCap: 100_000 }), /payloadCap: expected an integer 1\.\.16384/);
  assert.throws(() => KernelCapture.open({ ringBufferBytes: 5000 }), /ringBufferBytes: must be a power of two/);
  assert.throws(() => KernelCapture.open({ includePids: [-1] }), /includePids\[0\]/);
  assert.throws(() => KernelCapture.open({ objectPath: '/nonexistent/sockeye.bpf.o' }), /BPF object \/nonexistent\/sockeye\.bpf\.o is missing/);
  assert.throws(() => KernelCapture.open({ bogus: 1 } as never), /KernelCaptureOptions\.bogus: unknown option/);
});

test('overflow: a tiny ring buffer under load loses events, counts them, and reports exact gaps', async () => {
  const http = await startServer('http-server', ['127.0.0.1']);
  peers.push(http);
  // 16 KiB ring (a few events), no timer drain; the consumer (this process) is then stalled for
  // 400 ms while a keep-alive client keeps the server busy, so reserves fail mid-connection and
  // the events after the stall reveal the exact missing byte ranges.
  const rec = Recorder.open({ ringBufferBytes: 16384, flushIntervalMs: 0, payloadCap: 2048, includePids: [http.pid] });
  recorders.push(rec);
  const client = startPeer(peerPath('http-client'), [`http://127.0.0.1:${http.port}/size/3000`, '3000']);
  peers.push(client);
  assert.ok(await rec.until(() => rec.data(http.pid).length > 0), 'traffic started');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400); // bounded stall of the consumer
  await client.waitLine('done', 60_000);
  await rec.until(() => false, 200);
  const c = rec.capture.counters();
  assert.ok(c.lostEvents > 0, `kernel lost counter > 0 (${JSON.stringify(c)})`);
  assert.ok(c.lostBytes! > 0);
  const gaps = rec.of(http.pid).filter((e): e is GapEvent => e.kind === 'gap');
  assert.ok(gaps.length > 0, 'gap events delivered');
  assert.ok(gaps.every((g) => g.lostBytes > 0));
  const gapBytes = gaps.reduce((n, g) => n + g.lostBytes, 0);
  assert.ok(gapBytes <= c.lostBytes!, 'gap bytes never exceed what the kernel counted as lost');
  // Per direction, delivered + gap bytes tile the stream exactly: offsets are contiguous.
  for (const dir of ['ingress', 'egress'] as const) {
    let next = -1;
    for (const e of rec.of(http.pid)) {
      if ((e.kind !== 'data' && e.kind !== 'gap') || e.direction !== dir) continue;
      if (e.kind === 'gap') { next += e.lostBytes; continue; }
      if (next >= 0) assert.equal(e.offset, next, `${dir} stream offset after gaps`);
      next = e.offset + e.totalBytes;
    }
  }
  assert.equal(c.decodeErrors, 0);
  rec.close();
});

/** The cgroup v2 mount (bpf_get_current_cgroup_id reports the default hierarchy's id), if any. */
function cgroup2Mount(): string | undefined {
  const line = readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
  return line?.split(' ')[1];
}

test('cgroup filters: a cgroup covers its whole subtree — include a parent, then exclude it; a deeper mark wins', async (t) => {
  const mnt = cgroup2Mount();
  if (!mnt) { t.skip('no cgroup2 hierarchy mounted on this machine'); return; }
  // parent/leaf, with the server in leaf: filters name the parent (as a user names a pod's or a
  // slice's cgroup while the processes live in cgroups below it).
  const parent = join(mnt, `sockeye-test-${process.pid}`);
  const leaf = join(parent, 'leaf');
  mkdirSync(parent);
  mkdirSync(leaf);
  const http = await startServer('http-server', ['127.0.0.1']);
  try {
    writeFileSync(join(leaf, 'cgroup.procs'), String(http.pid));
    const parentId = BigInt(statSync(parent).ino); // a cgroup v2 id is its directory's inode number
    const leafId = BigInt(statSync(leaf).ino);
    const rec = Recorder.open({ includeCgroupIds: [parentId] });
    recorders.push(rec);
    const curl = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${http.port}/in-cgroup`]);
    assert.ok(await rec.until(() => rec.data(http.pid).some((e) => e.direction === 'egress')), 'a process below the included cgroup is traced');
    assert.ok(rec.events.every((e) => e.process.cgroupId === leafId), 'only processes under the included cgroup');
    assert.equal(rec.of(curl.pid).length, 0);
    rec.close();
    const rec2 = Recorder.open({ excludeCgroupIds: [parentId] });
    recorders.push(rec2);
    const curl2 = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${http.port}/out-of-cgroup`]);
    assert.ok(await rec2.until(() => rec2.data(curl2.pid).some((e) => e.direction === 'ingress')));
    assert.equal(rec2.of(http.pid).length, 0, 'the excluded subtree produces nothing');
    rec2.close();
    // Include the parent but exclude the leaf: the nearer (deeper) mark decides.
    const rec3 = Recorder.open({ includeCgroupIds: [parentId], excludeCgroupIds: [leafId] });
    recorders.push(rec3);
    const curl3 = await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${http.port}/leaf-excluded`]);
    assert.equal(curl3.code, 0);
    await rec3.until(() => false, 500);
    assert.equal(rec3.of(http.pid).length, 0, 'excluded leaf under an included parent');
    rec3.close();
  } finally {
    http.child.kill('SIGKILL');
    await once(http.child, 'exit').catch(() => undefined);
    for (const dir of [leaf, parent]) {
      for (let i = 0; i < 50; i++) { try { rmdirSync(dir); break; } catch { await new Promise((r) => setTimeout(r, 20)); } }
    }
  }
});
