// The cgroup id → path index, on a directory tree made by the test (directory inodes stand for the
// cgroup ids a cgroup2 mount gives): found, rescans bounded in time, walks bounded in size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupPathIndex, cgroup2Mount } from '../../agent/signals/cgroup-path-index.js';

function tree(): string {
  const root = mkdtempSync('/tmp/sockeye-cgroup-index-');
  mkdirSync(join(root, 'kubepods/burstable/podx/ctr'), { recursive: true });
  writeFileSync(join(root, 'kubepods/cgroup.procs'), ''); // files are not cgroups
  return root;
}
const ino = (p: string) => statSync(p, { bigint: true }).ino;

test('an id resolves to its path below the root; the root and unknown ids to nothing', () => {
  const root = tree();
  try {
    const idx = new CgroupPathIndex(root, 0);
    assert.equal(idx.pathOf(ino(join(root, 'kubepods/burstable/podx/ctr'))), '/kubepods/burstable/podx/ctr');
    assert.equal(idx.pathOf(ino(join(root, 'kubepods/cgroup.procs'))), undefined);
    assert.equal(idx.pathOf(0n), undefined);
    assert.equal(idx.pathOf(1n), undefined);
  } finally { rmSync(root, { recursive: true }); }
});

test('a cgroup made after the last walk is found by the next one, but walks are at most one per interval', () => {
  const root = tree();
  try {
    const idx = new CgroupPathIndex(root, 1000);
    assert.equal(idx.pathOf(ino(join(root, 'kubepods')), 10_000), '/kubepods');
    mkdirSync(join(root, 'late'));
    const late = ino(join(root, 'late'));
    assert.equal(idx.pathOf(late, 10_500), undefined, 'within the interval: no new walk');
    assert.equal(idx.scans, 1);
    assert.equal(idx.pathOf(late, 11_001), '/late');
    assert.equal(idx.scans, 2);
  } finally { rmSync(root, { recursive: true }); }
});

test('a walk stops at its directory bound and is counted', () => {
  const root = tree();
  try {
    const idx = new CgroupPathIndex(root, 0, 2);
    assert.equal(idx.pathOf(ino(join(root, 'kubepods/burstable/podx/ctr'))), undefined);
    assert.equal(idx.truncatedScans, 1);
  } finally { rmSync(root, { recursive: true }); }
});

test('no cgroup2 mount (a pure cgroup v1 host): nothing resolves', () => {
  const mountinfo = join(mkdtempSync('/tmp/sockeye-mountinfo-'), 'mountinfo');
  writeFileSync(mountinfo, '30 25 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n');
  assert.equal(cgroup2Mount(mountinfo), undefined);
  assert.equal(new CgroupPathIndex(cgroup2Mount(mountinfo)).pathOf(1234n), undefined);
  rmSync(mountinfo);
});
