// The agent's cgroup filters: `capture.include_cgroups` / `exclude_cgroups` name cgroup v2
// directories, are checked when the config loads (key named, why), and reach the kernel capture as
// the cgroups' ids. The capture opener here records the options it is given instead of loading BPF;
// test/kernel/filtering-capture.test.ts checks the kernel side of the same filters for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { ConfigError, loadAgentConfig } from '../../agent/config/agent-config.js';
import { startAgent, type Capture } from '../../agent/agent.js';
import type { KernelCaptureOptions } from '../../agent/capture/kernel-capture.js';

const dir = mkdtempSync('/tmp/sockeye-cgroup-config-');
const file = (name: string, text: string) => { writeFileSync(`${dir}/${name}`, text); return `${dir}/${name}`; };
test.after(() => rmSync(dir, { recursive: true }));
const mnt = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2')?.[1];

test('cgroup filter keys: cgroup v2 directories accepted; other paths rejected with the key and why', { skip: mnt ? undefined : 'no cgroup2 hierarchy mounted' }, () => {
  assert.deepEqual(loadAgentConfig({ env: {} }).capture.includeCgroups, []);
  const ok = loadAgentConfig({ env: {}, file: file('ok.yaml', `capture:\n  exclude_cgroups: [${mnt}]\n`) });
  assert.deepEqual(ok.capture.excludeCgroups, [mnt]);
  const cases: Array<[string, RegExp]> = [
    ['capture:\n  include_cgroups: [kubepods.slice]\n', /'capture\.include_cgroups': item 0 must be an absolute cgroup v2 directory/],
    [`capture:\n  include_cgroups: [${dir}]\n`, /'capture\.include_cgroups': item 0 .* is not on a cgroup v2 file system/],
    [`capture:\n  exclude_cgroups: [${mnt}, ${mnt}/sockeye-no-such-cgroup]\n`, /'capture\.exclude_cgroups': item 1 .*sockeye-no-such-cgroup: ENOENT/],
    ['capture:\n  exclude_cgroups: 7\n', /'capture\.exclude_cgroups': must be a list of cgroup directories/],
  ];
  for (const [yaml, re] of cases) {
    assert.throws(() => loadAgentConfig({ env: {}, file: file('bad.yaml', yaml) }), (e: unknown) => e instanceof ConfigError && re.test(e.message), yaml);
  }
});

test('the agent hands the capture the cgroup ids (directory inode numbers)', { skip: mnt ? undefined : 'no cgroup2 hierarchy mounted' }, async () => {
  const cfg = loadAgentConfig({ env: {}, file: file('run.yaml', `listen: 127.0.0.1:0\nexport:\n  enabled: false\nconntrack:\n  enabled: false\nlive_view: off\ncapture:\n  include_cgroups: [${mnt}]\n`) });
  let seen: KernelCaptureOptions | undefined;
  const opener = async (opts: KernelCaptureOptions): Promise<Capture> => {
    seen = opts;
    return { attachments: [{ program: 'sockeye_enter_read', section: 'tp', attached: true }], onEvents() {}, counters: () => ({}) as never, close() {} };
  };
  const agent = await startAgent(cfg, () => undefined, opener);
  await agent.stop();
  assert.deepEqual(seen?.includeCgroupIds, [BigInt(statSync(mnt!).ino)]);
  assert.equal(seen?.excludeCgroupIds, undefined);
});
