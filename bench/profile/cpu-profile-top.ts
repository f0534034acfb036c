// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per package,
// so docs/PERFORMANCE.md can say where the agent's time goes.
//   node dist/bench/profile/cpu-profile-top.js FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const [file, nArg] = process.argv.slice(2);
if (!file) { console.error('usage: cpu-profile-top FILE.cpuprofile [N]'); process.exit(2); }
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function where(url: string): string {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) { const rest = url.slice(nm + 13).split('/'); return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!; }
  if (url.startsWith('node:')) return 'node core';
  const d = url.indexOf('/dist/');
  return d >= 0 ? url.slice(d + 6) : url;
}

const fn = new Map<string, number>();
const pkg = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const w = where(n.callFrame.url);
  const key = `${n.callFrame.functionName || '(anonymous)'}  ${w}:${n.callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const group = w.includes('/') && !w.startsWith('@') ? w.split('/').slice(0, 2).join('/') : w;
  pkg.set(group, (pkg.get(group) ?? 0) + us);
}
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
  .map(([k, us]) => `${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`).join('\n');
console.log(`profile ${file}: ${(total / 1e6).toFixed(2)} s sampled\n\nby area:\n${top(pkg, 15)}\n\nby function (self time):\n${top(fn, Number(nArg ?? 25))}`);
