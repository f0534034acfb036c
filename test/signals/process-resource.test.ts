import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ProcessResources, idsFromCgroup, serviceNameFromCommand, serviceNameFromEnviron } from '../../agent/signals/process-resource.js';
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

test('container.id and k8s.pod.uid from cgroup paths (systemd and cgroupfs drivers)', () => {
  const id = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);
  assert.deepEqual(idsFromCgroup(`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f2e3d4c_5b6a_4789_9abc_def012345678.slice/cri-containerd-${id}.scope\n`),
    { containerId: id, podUid: '1f2e3d4c-5b6a-4789-9abc-def012345678' });
  assert.deepEqual(idsFromCgroup(`12:memory:/kubepods/besteffort/pod0a1b2c3d-0000-4000-8000-123456789abc/${id}\n`),
    { containerId: id, podUid: '0a1b2c3d-0000-4000-8000-123456789abc' });
  assert.deepEqual(idsFromCgroup(`0::/system.slice/docker-${id}.scope\n`), { containerId: id });
  assert.deepEqual(idsFromCgroup('0::/user.slice/user-0.slice/session-1.scope\n'), {});
});
