// Renders deploy/helm/sockeye with the Go-template subset renderer, like `helm template`: values.yaml
// merged with overrides, every templates/*.yaml rendered, split into documents and parsed as YAML.
import { readFileSync, readdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import { parse, parseAllDocuments } from 'yaml';
import { renderTemplate, mergeValues, type Scope } from './go-template-subset.js';

export const root = new URL('../../../../', import.meta.url);
export const chartDir = new URL('deploy/helm/sockeye/', root);
export type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function defaultValues(): Record<string, unknown> {
  return parse(readFileSync(new URL('values.yaml', chartDir), 'utf8')) as Record<string, unknown>;
}

export function renderChart(overrides: Record<string, unknown> = {}, namespace = 'default'): Doc[] {
  const chart = parse(readFileSync(new URL('Chart.yaml', chartDir), 'utf8')) as Record<string, unknown>;
  const scope: Scope = {
    Values: mergeValues(defaultValues(), overrides),
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    Release: { Name: 'sockeye', Namespace: namespace, Service: 'Helm' },
  };
  const dir = new URL('templates/', chartDir);
  const docs: Doc[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
    const text = renderTemplate(f, readFileSync(new URL(f, dir), 'utf8'), scope);
    for (const d of parseAllDocuments(text, { uniqueKeys: true })) {
      assert.equal(d.errors.length, 0, `${f}: ${d.errors.map((e) => e.message).join('; ')}\n${text}`);
      const js = d.toJS() as Doc | null;
      if (js) docs.push(js);
    }
  }
  return docs;
}

export function plainManifests(): Doc[] {
  const dir = new URL('deploy/', root);
  return readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').flatMap((f) =>
    parseAllDocuments(readFileSync(new URL(f, dir), 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean));
}

export const find = (docs: Doc[], kind: string, name: string): Doc | undefined =>
  docs.find((d) => d.kind === kind && d.metadata?.name === name);
