// One definition of the record layout: agent/capture/event-layout.ts is generated from the compiled
// object's BTF. Fails when the committed file is not what the current object generates (a changed
// bpf/event-layout.h without `make`), and when the decoder's names lose an enumerator the kernel has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultObjectPath } from '../../agent/capture/kernel-capture.js';
import { EVENT_ENUMS, MAP_NAMES, SETTING_NAMES } from '../../agent/capture/event-layout.js';
import { PROTOCOL_NAMES, ROLE_NAMES, SYSCALL_NAMES } from '../../agent/capture/event-names.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('agent/capture/event-layout.ts is what the current object BTF generates', () => {
  assert.ok(existsSync(defaultObjectPath), `${defaultObjectPath} exists (make bpf)`);
  const fresh = execFileSync('node', [`${root}scripts/gen-event-layout.mjs`, defaultObjectPath], { encoding: 'utf8' });
  assert.equal(readFileSync(`${root}agent/capture/event-layout.ts`, 'utf8'), fresh, 'run `make` to regenerate');
});

test('every role, protocol and syscall value the kernel defines has a name in the decoder', () => {
  const named = (values: Record<string, number>, names: string[]) => Object.values(values).every((v) => typeof names[v] === 'string');
  assert.ok(named(EVENT_ENUMS.sockeye_role, ROLE_NAMES));
  assert.ok(named(EVENT_ENUMS.sockeye_protocol, PROTOCOL_NAMES));
  assert.ok(named(EVENT_ENUMS.sockeye_syscall, SYSCALL_NAMES));
});

test('the maps and settings the loader names exist in the object', () => {
  for (const m of ['events', 'conns', 'counters', 'pid_filter', 'cgroup_filter', 'scratch']) assert.ok((MAP_NAMES as readonly string[]).includes(m), m);
  for (const s of ['payload_cap', 'ring_wakeup_bytes', 'self_pid', 'filter_pids_include', 'filter_cgroups_include']) {
    assert.ok((SETTING_NAMES as readonly string[]).includes(s), s);
  }
});
