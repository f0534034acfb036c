// The agent's `conntrack` section and how the agent starts NAT resolution: on by default, pointed at
// another namespace by netns_path, validated by key; when it cannot run, one clear log line and the
// agent carries on without it. The watcher here is the real one (ctnetlink on this kernel).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadAgentConfig } from '../../agent/config/agent-config.js';
import { openConntrackWatcher, startNat } from '../../agent/agent.js';

const dir = mkdtempSync('/tmp/sockeye-conntrack-config-');
const file = (name: string, text: string) => { writeFileSync(`${dir}/${name}`, text); return `${dir}/${name}`; };
test.after(() => rmSync(dir, { recursive: true }));
const root = process.getuid?.() === 0;

test('conntrack: on by default in the agent\'s own namespace; netns_path and enabled from YAML', () => {
  assert.deepEqual(loadAgentConfig({ env: {} }).conntrack, { enabled: true, missWaitMs: 500 });
  const c = loadAgentConfig({ env: {}, file: file('ok.yaml', 'conntrack:\n  enabled: false\n  netns_path: /proc/1/ns/net\n  miss_wait_ms: 0\n') });
  assert.deepEqual(c.conntrack, { enabled: false, netnsPath: '/proc/1/ns/net', missWaitMs: 0 });
});

test('conntrack: bad values name the key and why', () => {
  const cases: Array<[string, RegExp]> = [
    ['conntrack:\n  enabled: sometimes\n', /'conntrack\.enabled': must be true or false/],
    ['conntrack:\n  netns_path: run/netns/x\n', /'conntrack\.netns_path': must be an absolute path/],
    ['conntrack:\n  netns_path: 3\n', /'conntrack\.netns_path': must be an absolute path/],
    ['conntrack:\n  miss_wait_ms: -1\n', /'conntrack\.miss_wait_ms': must be at least 0, got -1/],
    ['conntrack:\n  netns: /run/netns/x\n', /'conntrack\.netns': unknown key \(known here: enabled, netns_path, miss_wait_ms\)/],
  ];
  for (const [yaml, re] of cases) {
    assert.throws(() => loadAgentConfig({ env: {}, file: file('bad.yaml', yaml) }), (e: unknown) => e instanceof ConfigError && re.test(e.message), yaml);
  }
});

test('sockeye agent --help lists the conntrack keys', () => {
  const bin = new URL('../../../bin/sockeye.js', import.meta.url).pathname;
  const help = spawnSync(process.execPath, [bin, 'agent', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /conntrack\.enabled .*\[default: true\]/);
  assert.match(help.stdout, /conntrack\.netns_path .*\[default: the agent's own/);
  assert.match(help.stdout, /conntrack\.miss_wait_ms .*\[default: 500\]/);
});

test('NAT resolution that cannot run is one log line, never a failed agent', async () => {
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);
  const cfg = (conntrack: object) => ({ ...loadAgentConfig({ env: {} }), conntrack: { enabled: true, missWaitMs: 500, ...conntrack } });

  assert.equal(await startNat(cfg({ enabled: false }), log, openConntrackWatcher), undefined);
  assert.match(logs.pop()!, /NAT resolution disabled \(conntrack\.enabled: false\)/);

  assert.equal(await startNat(cfg({ netnsPath: `${dir}/no-such-namespace` }), log, openConntrackWatcher), undefined);
  assert.match(logs.pop()!, /NAT resolution off: conntrack\.netns_path .*no-such-namespace does not exist; running without it/);

  // A path that exists but is no network namespace: the relay cannot enter it; reported, not thrown.
  const notNs = file('not-a-namespace', '');
  const w = await startNat(cfg({ netnsPath: notNs }), log, openConntrackWatcher);
  try {
    const end = Date.now() + 5000;
    while (!logs.some((l) => l.startsWith('conntrack: ')) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.ok(logs.some((l) => /^conntrack: conntrack relay in .*not-a-namespace exited/.test(l)), logs.join('\n'));
    assert.equal(w?.lookup({ localAddress: '198.18.1.2', localPort: 1, remoteAddress: '198.18.100.10', remotePort: 80 }), undefined);
  } finally { w?.close(); }
});

test('NAT resolution in the agent\'s own namespace starts on this kernel', { skip: root ? false : 'needs root (CAP_NET_ADMIN) for ctnetlink' }, async () => {
  const logs: string[] = [];
  const w = await startNat({ ...loadAgentConfig({ env: {} }) }, (l) => logs.push(l), openConntrackWatcher);
  try {
    assert.ok(w, logs.join('\n'));
    assert.deepEqual(logs, ["NAT resolution on: following conntrack in the agent's network namespace"]);
    assert.equal(w!.counters().errors, 0);
  } finally { w?.close(); }
});
