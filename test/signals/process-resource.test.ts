import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ProcessResources, idsFromCgroup, idsFromCgroupPath, serviceNameFromCommand, serviceNameFromEnviron } from '../../agent/signals/process-resource.js';
import { SCHEMA_URL } from '../../common/semconv/semconv.js';

async function withChild(env: Record<string, string>, args: string[], fn: (pid: number) => void): Promise<void> {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data'); // the child is up
  try { fn(child.pid!); } finally { child.kill(); await once(child, 'exit'); }
}

test('a real process: service.name from its own OTEL_SERVICE_NAME, pid, executable, one cached Resource', async () => {
  await withChild({ OTEL_SERVICE_NAME: 'checkout' }, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], (pid) => {
    const r = new ProcessResources();
    const proc = { pid, tid: pid, comm: 'node', cgroupId: 0n, netns: 0 };
    const id = r.get(proc);
    assert.equal(id.serviceName, 'checkout');
    assert.equal(id.attributes['process.pid'], pid);
    assert.equal(id.attributes['process.executable.name'], 'node');
    assert.equal(typeof id.attributes['host.name'], 'string');
    assert.equal(id.resource.schemaUrl, SCHEMA_URL);
    assert.equal(r.get(proc).resource, id.resource, 'same Resource object per process');
  });
});

test('a real interpreter process without OTEL_SERVICE_NAME is named after its script', async () => {
  const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/sockeye-res-');
  writeFileSync(`${dir}/inventory-api.js`, 'console.log("up"); setInterval(() => {}, 1000);');
  try {
    await withChild({}, [`${dir}/inventory-api.js`], (pid) => {
      const id = new ProcessResources().get({ pid, tid: pid, comm: 'node', cgroupId: 0n, netns: 0 });
      assert.equal(id.serviceName, 'inventory-api');
    });
  } finally { rmSync(dir, { recursive: true }); }
});

test('a process that is gone falls back to its comm and is counted', () => {
  const r = new ProcessResources();
  const id = r.get({ pid: 0x3fffffff, tid: 1, comm: 'ghostd', cgroupId: 0n, netns: 0 });
  assert.equal(id.serviceName, 'ghostd');
  assert.equal(r.unreadable, 1);
});

test('naming rules and environment parsing', () => {
  assert.equal(serviceNameFromCommand('node', ['node', '--enable-source-maps', '/app/dist/server.js']), 'server');
  assert.equal(serviceNameFromCommand('python3.11', ['python3', 'manage.py', 'runserver']), 'manage');
  assert.equal(serviceNameFromCommand('nginx', ['nginx: master process']), 'nginx');
  assert.equal(serviceNameFromCommand('node', ['node', '-e', "require('http').createServer().listen(1)"]), 'node');
  assert.equal(serviceNameFromCommand('python3', ['python3', '-m', 'http.server', '8000']), 'python3');
  assert.equal(serviceNameFromEnviron('A=1\0OTEL_RESOURCE_ATTRIBUTES=team=x,service.name=billing\0'), 'billing');
  assert.equal(serviceNameFromEnviron('OTEL_SERVICE_NAME=\0B=2'), undefined);
});

test('container.id and k8s.pod.uid for every cgroup layout: v2 and v1, systemd and cgroupfs, containerd, CRI-O, Docker', () => {
  const id = '0123456789abcdef'.repeat(4);
  const uid = '1f2e3d4c-5b6a-4789-9abc-def012345678';
  const u_ = uid.replace(/-/g, '_');
  const both = { containerId: id, podUid: uid };
  const layouts: [string, string, object][] = [
    // Kubernetes, systemd cgroup driver (the kubelet default on cgroup v2)
    ['v2 systemd containerd', `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u_}.slice/cri-containerd-${id}.scope\n`, both],
    ['v2 systemd CRI-O', `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${u_}.slice/crio-${id}.scope\n`, both],
    ['v2 systemd Docker (cri-dockerd)', `0::/kubepods.slice/kubepods-pod${u_}.slice/docker-${id}.scope\n`, both],
    ['v2 systemd guaranteed pod', `0::/kubepods.slice/kubepods-pod${u_}.slice/cri-containerd-${id}.scope\n`, both],
    // Kubernetes, cgroupfs driver
    ['v2 cgroupfs containerd', `0::/kubepods/burstable/pod${uid}/${id}\n`, both],
    ['v2 cgroupfs CRI-O', `0::/kubepods/besteffort/pod${uid}/crio-${id}\n`, both],
    ['v2 cgroupfs guaranteed pod', `0::/kubepods/pod${uid}/${id}\n`, both],
    // cgroup v1: one line per hierarchy; the pod and container are in the controllers' paths
    ['v1 cgroupfs containerd', `12:memory:/kubepods/burstable/pod${uid}/${id}\n11:cpu,cpuacct:/kubepods/burstable/pod${uid}/${id}\n0::/\n`, both],
    ['v1 systemd containerd', `11:cpu,cpuacct:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u_}.slice/cri-containerd-${id}.scope\n1:name=systemd:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u_}.slice/cri-containerd-${id}.scope\n`, both],
    ['v1 systemd CRI-O', `5:pids:/kubepods.slice/kubepods-pod${u_}.slice/crio-${id}.scope\n`, both],
    ['v1 cgroupfs Docker (dockershim)', `9:memory:/kubepods/besteffort/pod${uid}/${id}\n`, both],
    // Containers without Kubernetes
    ['Docker, systemd driver', `0::/system.slice/docker-${id}.scope\n`, { containerId: id }],
    ['Docker, cgroupfs driver (v1)', `4:memory:/docker/${id}\n1:name=systemd:/docker/${id}\n`, { containerId: id }],
    ['Podman', `0::/machine.slice/libpod-${id}.scope\n`, { containerId: id }],
    ['Podman rootless', `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${id}.scope/container\n`, { containerId: id }],
    ['nerdctl', `0::/system.slice/nerdctl-${id}.scope\n`, { containerId: id }],
    // Nested: a kind node (a Docker container) running pods; a container's own sub-cgroup
    ['kind node', `0::/docker/${'f'.repeat(64)}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${u_}.slice/cri-containerd-${id}.scope\n`, both],
    ['sub-cgroup of a container', `0::/kubepods/burstable/pod${uid}/${id}/init\n`, both],
    // Not containers
    ['CRI-O conmon (beside the container, not in it)', `0::/kubepods.slice/kubepods-pod${u_}.slice/crio-conmon-${id}.scope\n`, { podUid: uid }],
    ['host session', '0::/user.slice/user-0.slice/session-1.scope\n', {}],
    ['root', '0::/\n', {}],
    ['empty (process gone)', '', {}],
  ];
  for (const [name, text, want] of layouts) assert.deepEqual(idsFromCgroup(text), want, name);
});

test('a real nested cgroup made by the test: the ids come from the kernel\'s view of the process', { skip: cgroup2Unavailable() }, async () => {
  const id = 'c0ffee'.padEnd(64, '0');
  const uid = '0a1b2c3d-0000-4000-8000-123456789abc';
  const top = join(cgroup2Root()!, `sockeye-test-process-resource-${process.pid}`);
  const leaf = join(top, 'kubepods.slice', 'kubepods-burstable.slice', `kubepods-burstable-pod${uid.replace(/-/g, '_')}.slice`, `cri-containerd-${id}.scope`);
  mkdirSync(leaf, { recursive: true });
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    writeFileSync(join(leaf, 'cgroup.procs'), String(child.pid));
    const text = readFileSync(`/proc/${child.pid}/cgroup`, 'utf8');
    assert.match(text, /kubepods-burstable-pod/);
    assert.deepEqual(idsFromCgroup(text), { containerId: id, podUid: uid });
    const who = new ProcessResources().get({ pid: child.pid!, tid: child.pid!, comm: 'sleep', cgroupId: 0n, netns: 0 });
    assert.equal(who.attributes['container.id'], id);
    assert.equal(who.attributes['k8s.pod.uid'], uid);
    assert.equal(who.podUid, uid);
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
    for (let d = leaf; d.startsWith(top); d = dirname(d)) rmdirWhenEmpty(d);
  }
  assert.ok(!existsSync(top), 'test cgroups removed');
});

test('idsFromCgroupPath reads one path directory by directory', () => {
  const id = 'ab'.repeat(32);
  assert.deepEqual(idsFromCgroupPath(`/docker/${id}`), { containerId: id });
  assert.deepEqual(idsFromCgroupPath(`/kubepods/pod${'0'.repeat(8)}-1111-2222-3333-${'4'.repeat(12)}/${id}`),
    { containerId: id, podUid: `${'0'.repeat(8)}-1111-2222-3333-${'4'.repeat(12)}` });
  assert.deepEqual(idsFromCgroupPath(`/system.slice/${id.slice(1)}`), {}, '63 hex digits are not a container id');
});

/** Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts). */
function cgroup2Root(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep > 0 && f[sep + 1] === 'cgroup2') return f[4];
  }
  return undefined;
}

function cgroup2Unavailable(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to make cgroups';
  const root = cgroup2Root();
  if (root === undefined) return 'no cgroup v2 hierarchy mounted';
  try { accessSync(join(root, 'cgroup.procs'), constants.W_OK); } catch { return `${root} is not writable`; }
  return false;
}

function rmdirWhenEmpty(dir: string): void {
  for (let i = 0; i < 50; i++) { // a killed process leaves its cgroup a moment later
    try { rmdirSync(dir); return; } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

test('container.id and k8s.pod.uid from cgroup paths (systemd and cgroupfs drivers)', () => {
  const id = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);
  assert.deepEqual(idsFromCgroup(`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f2e3d4c_5b6a_4789_9abc_def012345678.slice/cri-containerd-${id}.scope\n`),
    { containerId: id, podUid: '1f2e3d4c-5b6a-4789-9abc-def012345678' });
  assert.deepEqual(idsFromCgroup(`12:memory:/kubepods/besteffort/pod0a1b2c3d-0000-4000-8000-123456789abc/${id}\n`),
    { containerId: id, podUid: '0a1b2c3d-0000-4000-8000-123456789abc' });
  assert.deepEqual(idsFromCgroup(`0::/system.slice/docker-${id}.scope\n`), { containerId: id });
  assert.deepEqual(idsFromCgroup('0::/user.slice/user-0.slice/session-1.scope\n'), {});
});

test('the kernel\'s exec record names a process first; /proc only enriches', async () => {
  const records = new Map([[0x3ffffffe, { filename: '/opt/shop/bin/checkout-worker', forked: false }],
    [0x3ffffffd, { filename: './relative-tool', forked: false }]]);
  const execs = { lookup: (tgid: number) => records.get(tgid) };
  const { CgroupPathIndex } = await import('../../agent/signals/cgroup-path-index.js');
  const r = new ProcessResources('/proc', 8192, 30_000, new CgroupPathIndex(), execs);
  // Gone from /proc: named from the executable it was exec'd as, not from its (thread-set) comm.
  const gone = r.get({ pid: 0x3ffffffe, tid: 0x3ffffffe, comm: 'worker-thread-7', cgroupId: 0n, netns: 0 });
  assert.equal(gone.serviceName, 'checkout-worker');
  assert.equal(gone.attributes['process.executable.name'], 'checkout-worker');
  assert.equal(gone.attributes['process.executable.path'], '/opt/shop/bin/checkout-worker');
  assert.equal(gone.attributes['process.command'], undefined, 'no command line is invented');
  assert.equal(r.namedFromExec, 1);
  assert.equal(r.unreadable, 0);
  // exec'd with a relative path and gone: the name, but no path that is not a full path.
  const rel = r.get({ pid: 0x3ffffffd, tid: 0x3ffffffd, comm: 'x', cgroupId: 0n, netns: 0 });
  assert.equal(rel.attributes['process.executable.name'], 'relative-tool');
  assert.equal(rel.attributes['process.executable.path'], undefined);
  // Alive: the exec record names the executable, /proc adds OTEL_SERVICE_NAME and the command line.
  await withChild({ OTEL_SERVICE_NAME: 'checkout' }, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], (pid) => {
    records.set(pid, { filename: process.execPath, forked: false });
    const id = r.get({ pid, tid: pid, comm: 'libuv-worker', cgroupId: 0n, netns: 0 });
    assert.equal(id.serviceName, 'checkout');
    assert.equal(id.attributes['process.executable.path'], process.execPath);
    assert.equal(id.attributes['process.command'], process.execPath);
  });
});
