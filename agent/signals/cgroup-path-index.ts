// cgroup v2 id → the cgroup's path. Every event carries the id of its process's cgroup in the default
// (v2) hierarchy, which is the inode number of that cgroup's directory on the cgroup2 mount; a
// process that exited before /proc/<pid>/cgroup could be read is placed in its container and pod
// from that path. The index is rebuilt by walking the mount, only when an id is not known yet, at
// most once per `minRescanMs`, and over at most `maxDirs` directories (truncated walks are counted).
// On a pure cgroup v1 host every process is in the v2 root: ids resolve to nothing.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class CgroupPathIndex {
  private paths = new Map<bigint, string>();
  private lastScanMs = Number.NEGATIVE_INFINITY;
  /** Walks that stopped at `maxDirs` (the index then misses the rest). */
  truncatedScans = 0;
  scans = 0;

  constructor(
    private readonly root: string | undefined = cgroup2Mount(),
    private readonly minRescanMs = 1000,
    private readonly maxDirs = 50_000,
  ) {}

  /** The cgroup's path below the cgroup2 mount (e.g. `/kubepods.slice/…`), when it can be found. */
  pathOf(id: bigint, nowMs = Date.now()): string | undefined {
    if (this.root === undefined || id <= 1n) return undefined; // 0: unknown, 1: the root
    const known = this.paths.get(id);
    if (known !== undefined || nowMs - this.lastScanMs < this.minRescanMs) return known;
    this.lastScanMs = nowMs;
    this.scan(this.root);
    return this.paths.get(id);
  }

  private scan(root: string): void {
    this.scans++;
    const found = new Map<bigint, string>();
    const queue: string[] = [''];
    for (let i = 0; i < queue.length; i++) {
      const rel = queue[i]!;
      let entries;
      try { entries = readdirSync(join(root, rel), { withFileTypes: true }); } catch { continue; } // removed meanwhile
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        if (found.size >= this.maxDirs) { this.truncatedScans++; this.paths = found; return; }
        const path = `${rel}/${e.name}`;
        try { found.set(statSync(join(root, path), { bigint: true }).ino, path); } catch { continue; }
        queue.push(path);
      }
    }
    this.paths = found;
  }
}

/** Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts). */
export function cgroup2Mount(mountinfo = '/proc/self/mountinfo'): string | undefined {
  let text: string;
  try { text = readFileSync(mountinfo, 'utf8'); } catch { return undefined; }
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep > 0 && f[sep + 1] === 'cgroup2') return f[4];
  }
  return undefined;
}
