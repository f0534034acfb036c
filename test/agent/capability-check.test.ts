// Each capability the agent asks for is needed: the real agent runs on the kernel with its bounding
// set cut to the DaemonSet's list less one (setpriv), and either refuses to start with one line naming
// the missing capability (BPF, PERFMON) or says in one line what it runs without (NET_ADMIN, SYS_PTRACE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { checkCapabilities, effectiveCapabilities } from '../../agent/capture/capability-check.js';
import { kernelAgentUnavailable, freePort } from './helpers/agent-child.js';
import { root } from '../deploy/helpers/render-chart.js';

const ALL = ['BPF', 'PERFMON', 'NET_ADMIN', 'SYS_PTRACE'];
const skip = kernelAgentUnavailable() ?? (spawnSync('setpriv', ['--version']).status === 0 ? undefined : 'setpriv (util-linux) missing');

test('CapEff is read from /proc status text; SYS_ADMIN stands in for BPF and PERFMON', () => {
  const status = (bits: number[]) => `Name:\tnode\nCapEff:\t${bits.reduce((a, b) => a | (1n << BigInt(b)), 0n).toString(16).padStart(16, '0')}\n`;
  assert.equal(effectiveCapabilities(status([39, 38])), (1n << 39n) | (1n << 38n));
  assert.equal(checkCapabilities(status([39, 38, 12, 19])).fatal, undefined);
  assert.deepEqual(checkCapabilities(status([39, 38, 12, 19])).warnings, []);
  assert.match(checkCapabilities(status([38, 12, 19])).fatal!, /missing capability CAP_BPF/);
  assert.match(checkCapabilities(status([39, 12, 19])).fatal!, /missing capability CAP_PERFMON/);
  assert.equal(checkCapabilities(status([21])).fatal, undefined);
  assert.equal(checkCapabilities('Name:\tx\n').fatal?.includes('CAP_BPF'), true);
});

async function agentWith(caps: string[]): Promise<{ status: number | null; out: string }> {
  const port = await freePort();
  const bounding = ['-all', ...caps.map((c) => `+${c.toLowerCase()}`)].join(',');
  // --no-export: nothing to send to; the agent is stopped by timeout's SIGINT once it started.
  const r = spawnSync('timeout', ['-s', 'INT', '-k', '10', '12', 'setpriv', '--inh-caps=-all', '--ambient-caps=-all', `--bounding-set=${bounding}`, '--',
    process.execPath, 'bin/sockeye.js', 'agent', '--no-export', '--no-live', '--listen', `127.0.0.1:${port}`],
  { cwd: new URL('.', root).pathname, encoding: 'utf8', timeout: 40_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

for (const missing of ['BPF', 'PERFMON']) {
  test(`without CAP_${missing} the agent exits non-zero with one line naming it`, { skip, timeout: 60_000 }, async () => {
    const { status, out } = await agentWith(ALL.filter((c) => c !== missing));
    assert.notEqual(status, 0);
    const lines = out.trim().split('\n').filter((l) => /cannot start/.test(l));
    assert.equal(lines.length, 1, out);
    assert.match(lines[0]!, new RegExp(`^sockeye agent: cannot start: missing capability CAP_${missing} `));
    assert.doesNotMatch(out, /^\s+at /m, 'no stack trace');
    assert.doesNotMatch(out, /libbpf/, 'stopped before loading');
  });
}

for (const missing of ['NET_ADMIN', 'SYS_PTRACE']) {
  test(`without CAP_${missing} the agent starts and says in one line what it runs without`, { skip, timeout: 60_000 }, async () => {
    const { out } = await agentWith(ALL.filter((c) => c !== missing));
    assert.match(out, new RegExp(`running without CAP_${missing}: `));
    assert.match(out, /attached (\d+) of \1 capture programs/);
    if (missing === 'NET_ADMIN') assert.match(out, /NAT resolution off/);
  });
}

test('with exactly the DaemonSet set the agent starts with nothing missing', { skip, timeout: 60_000 }, async () => {
  const { out } = await agentWith(ALL);
  assert.doesNotMatch(out, /running without|cannot start/);
  assert.match(out, /NAT resolution on/);
  assert.match(out, /attached (\d+) of \1 capture programs/);
});
