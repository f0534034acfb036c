// Renders deploy/helm/sockeye with the real `helm template` (helpers/helm-binary.ts): values.yaml
// merged with overrides (a values file, as `-f` does), split into documents and parsed as YAML.
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { helm } from './helm-binary.js';

export const root = new URL('../../../../', import.meta.url);
export const chartDir = new URL('deploy/helm/sockeye/', root);
export type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function defaultValues(): Record<string, unknown> {
  return parse(readFileSync(new URL('values.yaml', chartDir), 'utf8')) as Record<string, unknown>;
}

export function renderChart(overrides: Record<string, unknown> = {}, namespace = 'sockeye', release = 'sockeye'): Doc[] {
  const dir = mkdtempSync(join(tmpdir(), 'sockeye-chart-'));
  try {
    const values = join(dir, 'values.yaml');
    writeFileSync(values, stringify(overrides));
    const r = helm(['template', release, chartDir.pathname, '--namespace', namespace, '-f', values]);
    assert.equal(r.status, 0, `helm template: ${r.stderr}`);
    const docs: Doc[] = [];
    for (const d of parseAllDocuments(r.stdout, { uniqueKeys: true })) {
      assert.equal(d.errors.length, 0, d.errors.map((e) => e.message).join('; '));
      const js = d.toJS() as Doc | null;
      if (js) docs.push(js);
    }
    return docs;
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

export function plainManifests(): Doc[] {
  const dir = new URL('deploy/', root);
  return readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').flatMap((f) =>
    parseAllDocuments(readFileSync(new URL(f, dir), 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean));
}

export const find = (docs: Doc[], kind: string, name: string): Doc | undefined =>
  docs.find((d) => d.kind === kind && d.metadata?.name === name);
