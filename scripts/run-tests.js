#!/usr/bin/env node
// Runs the compiled tests (dist/test/**/*.test.js) with node's own test runner.
// Arguments narrow the run: `npm test -- test/protocols` or `npm test -- test/kernel/http-capture.test.ts`.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const toDist = (p) => join(root, 'dist', relative(root, join(root, p))).replace(/\.ts$/, '.js');
const walk = (p) => statSync(p).isDirectory()
  ? readdirSync(p).flatMap((n) => walk(join(p, n)))
  : (p.endsWith('.test.js') ? [p] : []);

const targets = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
const roots = (targets.length ? targets : ['test']).map(toDist);
for (const r of roots) {
  if (!existsSync(r)) { console.error(`run-tests: ${r} does not exist (did the build run?)`); process.exit(2); }
}
const files = roots.flatMap(walk).sort();
if (files.length === 0) { console.error('run-tests: no test files found'); process.exit(2); }
const res = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=1', ...flags, ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
