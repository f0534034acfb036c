// The house rule: agent/ and otel-collector/ share code only through common/, never import each
// other, and common/ imports neither (cli/ at the top may import all three). Read from the .ts
// sources' import statements, so a crossing fails here before review.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Top folder → top folders it must not import from. */
const FORBIDDEN: Record<string, string[]> = {
  agent: ['otel-collector', 'cli'],
  'otel-collector': ['agent', 'cli'],
  common: ['agent', 'otel-collector', 'cli'],
};

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** Every relative import of one file, as repo paths. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) out.push(join(dirname(file), m[1]!));
  return out;
}

/** `file → target` lines for imports that cross a forbidden boundary. */
export function crossings(files: Array<{ path: string; text: string }>): string[] {
  const bad: string[] = [];
  for (const f of files) {
    const from = f.path.split('/')[0]!;
    const banned = FORBIDDEN[from] ?? [];
    for (const target of importsOf(f.path, f.text)) {
      if (banned.includes(target.split('/')[0]!)) bad.push(`${f.path} → ${target}`);
    }
  }
  return bad;
}

function sources(dir: string): Array<{ path: string; text: string }> {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(join(root, p)).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [{ path: p, text: readFileSync(join(root, p), 'utf8') }] : [];
  });
}

test('agent/, otel-collector/ and common/ import across no boundary', () => {
  const files = Object.keys(FORBIDDEN).flatMap(sources);
  assert.ok(files.length > 100, `read ${files.length} source files from ${relative(process.cwd(), root) || '.'}`);
  assert.deepEqual(crossings(files), []);
});

test('the check flags each kind of crossing, static and dynamic', () => {
  const planted = [
    { path: 'agent/signals/x.ts', text: "import { grpcRetry } from '../../otel-collector/pdata/codec.js';" },
    { path: 'otel-collector/processors/nat/y.ts', text: "import type { NatTarget } from '../../../agent/conntrack/nat-table.js';" },
    { path: 'common/otlp/z.ts', text: "const m = await import('../../agent/capture/kernel-capture.js');" },
    { path: 'common/semconv/w.ts', text: "export { X } from '../../otel-collector/pdata/types.js';" },
    { path: 'agent/v.ts', text: "import '../cli/main.js';" },
  ];
  assert.equal(crossings(planted).length, planted.length);
  const allowed = [
    { path: 'agent/signals/a.ts', text: "import { SCHEMA_URL } from '../../common/semconv/semconv.js';" },
    { path: 'otel-collector/pdata/b.ts', text: "import { grpcRetry } from '../../common/otlp/grpc-retry.js';" },
    { path: 'cli/main.ts', text: "const c = await import('../otel-collector/service/service.js');" },
    { path: 'common/otlp/c.ts', text: "import { Reader } from './reader.js'; // '../../agent/x.js' in a comment" },
  ];
  assert.deepEqual(crossings(allowed), []);
});
