// Real kernel: a client that lives a few milliseconds inside a pod-shaped nested cgroup the test
// makes (systemd driver, containerd). It is gone before /proc/<pid> can be read, yet the cgroup id
// its events carry (the inode of its cgroup v2 directory) still places it in its container and pod.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KernelCapture } from '../../agent/capture/kernel-capture.js';
import { ProcessResources } from '../../agent/signals/process-resource.js';
import { cgroup2Mount } from '../../agent/signals/cgroup-path-index.js';
import { Recorder, run, startServer, stopPeer, type Peer } from './helpers/capture-helpers.js';

const ROOT = cgroup2Mount();
const skip = process.getuid?.() !== 0 ? 'needs root' : ROOT === undefined ? 'no cgroup v2 hierarchy mounted' : false;
const CONTAINER = 'cafe'.repeat(16);
const POD = '7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const TOP = ROOT === undefined ? '' : join(ROOT, `sockeye-test-cgroup-identity-${process.pid}`);
const LEAF = join(TOP, 'kubepods.slice', 'kubepods-besteffort.slice', `kubepods-besteffort-pod${POD.replace(/-/g, '_')}.slice`, `cri-containerd-${CONTAINER}.scope`);

let rec: Recorder;
let server: Peer & { port: number };

before(async () => {
  if (skip) return;
  mkdirSync(LEAF, { recursive: true });
  server = await startServer('http-server', ['127.0.0.1']);
  rec = new Recorder(KernelCapture.open());
});

after(() => {
  if (skip) return;
  stopPeer(server);
  rec?.close();
  for (let d = LEAF; d.startsWith(TOP); d = dirname(d)) {
    for (let i = 0; i < 50; i++) { // an exited process leaves its cgroup a moment later
      try { rmdirSync(d); break; } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') break; }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
});

test('a process gone before /proc was read still gets container.id and k8s.pod.uid from its cgroup id', { skip }, async () => {
  // The shell moves itself into the leaf cgroup, then becomes curl: one request, exit.
  const url = `http://127.0.0.1:${server.port}/short`;
  const client = await run('sh', ['-c', `echo $$ > ${join(LEAF, 'cgroup.procs')} && exec curl -s -o /dev/null ${url}`]);
  assert.equal(client.code, 0);
  assert.ok(await rec.until(() => rec.data(client.pid).some((e) => e.direction === 'ingress')), 'curl traffic captured');
  const ev = rec.data(client.pid)[0]!;
  assert.equal(ev.process.cgroupId, statSync(LEAF, { bigint: true }).ino, 'the event carries the inode of the cgroup v2 directory');
  assert.ok(!existsSync(`/proc/${client.pid}`), 'the client is gone');
  const who = new ProcessResources().get(ev.process);
  assert.equal(who.attributes['container.id'], CONTAINER);
  assert.equal(who.attributes['k8s.pod.uid'], POD);
  assert.equal(who.podUid, POD);
});
