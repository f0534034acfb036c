// The container image, built here without any registry and run the way the DaemonSet runs it.
// The base image is made locally from Debian packages (mmdebstrap, cached under build/image/) and
// imported under the Containerfile's FROM name; `podman build --pull=never` then builds the image,
// and the agent runs from it with host PID and network, tracefs and BTF mounted read-only, exactly
// the capabilities of deploy/agent-daemonset.yaml and a read-only root. A curl on the host to a
// server on the host must arrive as spans at an OTLP sink on the host.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { OtlpTestReceiver } from '../signals/helpers/otlp-test-receiver.js';
import { freePort } from '../agent/helpers/agent-child.js';
import { root } from './helpers/render-chart.js';

const rootPath = new URL('.', root).pathname;
const TAG = 'localhost/sockeye:image-test';
const NAME = 'sockeye-image-test-agent';
const BASE_TAR = `${rootPath}build/image/trixie-minbase.tar`;
const PODMAN = ['--runtime', 'runc'];
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

const run = (cmd: string, args: string[], timeout = 600_000) =>
  spawnSync(cmd, args, { cwd: rootPath, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
const podman = (args: string[], timeout?: number) => run('podman', [...PODMAN, ...args], timeout);

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (podman with host PID/network and BPF capabilities)';
  for (const c of ['podman', 'runc', 'mmdebstrap']) if (run('sh', ['-c', `command -v ${c}`]).status !== 0) return `${c} is not installed (scripts/setup.sh installs it)`;
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'the kernel has no BTF (/sys/kernel/btf/vmlinux)';
  if (!existsSync('/sys/kernel/tracing/events')) return 'tracefs is not mounted at /sys/kernel/tracing';
  const info = podman(['info'], 60_000);
  if (info.status !== 0) return `podman cannot run here: ${info.stderr.trim().split('\n').pop()}`;
  return undefined;
}

/** The securityContext capabilities the plain DaemonSet grants the agent. */
function daemonSetCapabilities(): string[] {
  const docs = parseAllDocuments(readFileSync(`${rootPath}deploy/agent-daemonset.yaml`, 'utf8')).map((d) => d.toJS());
  const ctr = docs.find((d) => d?.kind === 'DaemonSet').spec.template.spec.containers[0];
  assert.equal(ctr.securityContext.privileged, false);
  assert.deepEqual(ctr.securityContext.capabilities.drop, ['ALL']);
  assert.deepEqual(ctr.securityContext.seccompProfile, { type: 'Unconfined' });
  return ctr.securityContext.capabilities.add as string[];
}

const skip = unavailable();
const cleanups: Array<() => unknown> = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

test('image builds from a local Debian base and its agent turns host traffic into spans', { skip, timeout: 900_000 }, async () => {
  const from = /^FROM\s+(\S+)/m.exec(readFileSync(`${rootPath}Containerfile`, 'utf8'))![1]!;
  if (!existsSync(BASE_TAR)) {
    mkdirSync(`${rootPath}build/image`, { recursive: true });
    const r = run('mmdebstrap', ['--variant=minbase', 'trixie', `${BASE_TAR}.tmp`], 900_000);
    assert.equal(r.status, 0, `mmdebstrap: ${r.stderr}`);
    assert.equal(run('mv', [`${BASE_TAR}.tmp`, BASE_TAR]).status, 0);
  }
  if (podman(['image', 'exists', from]).status !== 0) {
    const r = podman(['import', BASE_TAR, from]);
    assert.equal(r.status, 0, `podman import: ${r.stderr}`);
  }
  // The build script's flags (runc, ulimits, the npm CA secret), offline for the base image.
  process.env.SOCKEYE_IMAGE = TAG;
  const build = run('bash', ['scripts/build-image.sh', '--pull=never'], 1_500_000);
  cleanups.push(() => { podman(['rmi', '-f', TAG]); podman(['image', 'prune', '-f', '--filter', 'label=io.sockeye.stage=build']); });
  assert.equal(build.status, 0, `podman build:\n${build.stdout.slice(-4000)}\n${build.stderr.slice(-4000)}`);

  const sink = await OtlpTestReceiver.start();
  cleanups.push(() => sink.close());
  const serverPort = await freePort();
  const server: ChildProcess = spawn('python3', ['-m', 'http.server', String(serverPort), '--bind', '127.0.0.1'], { stdio: 'ignore' });
  cleanups.push(() => server.kill());
  const metricsPort = await freePort();
  const caps = daemonSetCapabilities();
  podman(['rm', '-f', NAME]);
  const start = podman(['run', '-d', '--name', NAME, '--pid=host', '--network=host', ...LIMITS, '--read-only',
    '--cap-drop=ALL', ...caps.map((c) => `--cap-add=CAP_${c}`), '--security-opt', 'seccomp=unconfined',
    '-v', '/sys/kernel/tracing:/sys/kernel/tracing:ro', '-v', '/sys/kernel/btf:/sys/kernel/btf:ro',
    TAG, 'agent', '--listen', `127.0.0.1:${metricsPort}`, '--endpoint', sink.grpcEndpoint, '--protocol', 'grpc', '--no-live']);
  cleanups.push(() => podman(['rm', '-f', '-t', '2', NAME]));
  assert.equal(start.status, 0, `podman run: ${start.stderr}`);
  const logs = () => { const r = podman(['logs', NAME]); return r.stdout + r.stderr; };
  const deadline = Date.now() + 60_000;
  while (!/serving \/metrics/.test(logs())) {
    assert.ok(Date.now() < deadline && podman(['container', 'exists', NAME]).status === 0, `agent did not start:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.match(logs(), /attached (\d+) of \1 capture programs/);
  assert.match(logs(), /NAT resolution on/);
  assert.doesNotMatch(logs(), /running without CAP_/);

  const path = `/image-test-${process.pid}`;
  const until = Date.now() + 30_000;
  let found: ReturnType<typeof sink.spans> = [];
  while (found.length === 0 && Date.now() < until) {
    run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${serverPort}${path}`]);
    await new Promise((r) => setTimeout(r, 1000));
    found = sink.spans().filter((s) => s.attributes['url.path'] === path);
  }
  assert.ok(found.length > 0, `no span for ${path} arrived; agent log:\n${logs()}`);
  const kinds = new Set(found.map((s) => s.kind));
  assert.ok(kinds.has(2), 'the server span (python3 http.server) arrived');
  assert.ok(found.every((s) => s.attributes['http.request.method'] === 'GET'));
});
