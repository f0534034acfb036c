// The one start-up check words each cause differently: who runs the agent (permission), what the
// container grants (a capability), what the kernel lacks (BTF, tracefs), what the address is (taken).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenProblem, startupCheck } from '../../agent/capture/startup-check.js';

const status = (bits: number[]) => `Name:\tnode\nCapEff:\t${bits.reduce((a, b) => a | (1n << BigInt(b)), 0n).toString(16).padStart(16, '0')}\n`;
const FULL = status([39, 38, 12, 19]);

test('on this machine, as root with the capabilities, nothing stops the start', { skip: process.getuid?.() !== 0 && 'needs root' }, () => {
  assert.deepEqual(startupCheck({ statusText: FULL, uid: 0 }), { warnings: [] });
});

test('permission (not root, no capabilities) and a missing capability (root in a container) are told apart', () => {
  assert.match(startupCheck({ statusText: status([]), uid: 1000 }).fatal!, /^permission denied: running as uid 1000 without CAP_BPF/);
  assert.match(startupCheck({ statusText: status([38, 12, 19]), uid: 0 }).fatal!, /^missing capability CAP_BPF /);
  assert.deepEqual(startupCheck({ statusText: status([]), uid: 1000 }).warnings, [], 'one line only');
});

test('a kernel without BTF or tracefs is named as lacking them', () => {
  const root = mkdtempSync(join(tmpdir(), 'sockeye-startup-'));
  try {
    const fatal = startupCheck({ statusText: FULL, uid: 0, root }).fatal!;
    assert.match(fatal, /lacks what the capture needs: missing kernel BTF .*; tracefs/);
    assert.doesNotMatch(fatal, /permission/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('listen errors name the address and the cause', () => {
  const err = (code: string) => Object.assign(new Error(`listen ${code}`), { code });
  assert.equal(listenProblem('127.0.0.1:9464', err('EADDRINUSE')).message,
    'cannot listen on 127.0.0.1:9464: the address is in use by another process (choose another with --listen or the listen key)');
  assert.match(listenProblem('0.0.0.0:80', err('EACCES')).message, /^cannot listen on 0\.0\.0\.0:80: permission denied/);
  assert.match(listenProblem('198.18.0.1:9464', err('EADDRNOTAVAIL')).message, /no such address/);
});
