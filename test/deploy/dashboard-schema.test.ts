// Every dashboard is a Grafana dashboard by Grafana's own schema types (@grafana/schema, checked by
// tsc with excess-property checks) and every PromQL expression in it parses with Prometheus' own
// grammar (@prometheus-io/lezer-promql). The metric and label names are checked against live
// renders in dashboard-metrics.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parser } from '@prometheus-io/lezer-promql';
import { dashboardExprs } from './helpers/promql-names.js';
import { root } from './helpers/render-chart.js';

const dashDir = new URL('deploy/dashboards/', root);
const dashboards = readdirSync(dashDir).filter((f) => f.endsWith('.json')).map((f) => ({ file: f, text: readFileSync(new URL(f, dashDir), 'utf8') }));
const rootPath = new URL('.', root).pathname;

/** tsc over one module per dashboard: `const dashboard: Dashboard = <the JSON>`. */
function typeCheck(dir: string, files: Array<{ file: string; text: string }>): { status: number | null; out: string } {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const { file, text } of files) writeFileSync(`${dir}/${file.replace(/\.json$/, '.ts')}`, `import type { Dashboard } from '@grafana/schema';\nexport const dashboard: Dashboard = ${text};\n`);
  writeFileSync(`${dir}/tsconfig.json`, JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', skipLibCheck: true, types: [] },
    include: ['*.ts'],
  }));
  const r = spawnSync(process.execPath, [`${rootPath}node_modules/typescript/bin/tsc`, '-p', `${dir}/tsconfig.json`], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('every dashboard type-checks against @grafana/schema Dashboard', { timeout: 120_000 }, () => {
  assert.ok(dashboards.length >= 3);
  const r = typeCheck(`${rootPath}build/dashboard-types`, dashboards);
  assert.equal(r.status, 0, r.out);
});

test('the type check fails on a dashboard Grafana would not read (control)', { timeout: 120_000 }, () => {
  const bad = JSON.parse(dashboards[0]!.text);
  bad.panels[0].gridPos.h = 'tall';
  bad.refresh_every = '1m';
  const r = typeCheck(`${rootPath}build/dashboard-types-control`, [{ file: 'bad.json', text: JSON.stringify(bad) }]);
  assert.notEqual(r.status, 0);
  assert.match(r.out, /error TS2322: Type 'string' is not assignable to type 'number'/);
});

// Grafana substitutes its variables before Prometheus parses; stand-ins of the same syntactic kind.
const substitute = (expr: string) => expr.replace(/\$__(?:rate_interval|range|interval)/g, '5m').replace(/\$\{?(\w+)\}?/g, 'v_$1');

function parseErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({ enter: (n) => { if (n.type.isError) errors.push(`at ${n.from}: ${expr.slice(Math.max(0, n.from - 20), n.from + 20)}`); } });
  return errors;
}

test('every PromQL expression of every dashboard parses', () => {
  let count = 0;
  for (const { file, text } of dashboards) {
    for (const raw of dashboardExprs(JSON.parse(text))) {
      const expr = substitute(raw.replace(/^label_values\((.*),\s*\w+\)$/s, '$1'));
      assert.deepEqual(parseErrors(expr), [], `${file}: ${raw}`);
      count++;
    }
  }
  assert.ok(count > 20, `${count} expressions`);
  assert.notDeepEqual(parseErrors('sum by (a (rate(x[5m]))'), [], 'control: a broken expression has errors');
});
