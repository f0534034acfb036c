// deploy/: the manifests parse, grant only what the metadata cache reads, give the agent what
// eBPF capture and conntrack need, and deploy the repository's default pipeline unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../../otel-collector/service/collector-config.js';
import { testRegistry } from '../helpers/collector-harness.js';

const root = new URL('../../../../', import.meta.url);
const dir = new URL('deploy/', root);
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const docs: Doc[] = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').flatMap((f) =>
  parseAllDocuments(readFileSync(new URL(f, dir), 'utf8')).map((d) => {
    assert.equal(d.errors.length, 0, `${f}: ${d.errors.join('; ')}`);
    return d.toJS() as Doc;
  }));
const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata?.name === name);

test('every manifest is listed in the kustomization', () => {
  const k = parseAllDocuments(readFileSync(new URL('kustomization.yaml', dir), 'utf8'))[0]!.toJS() as Doc;
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  assert.deepEqual([...k.resources].sort(), files);
});

test('RBAC: get/list/watch only, on exactly the kinds the cache watches', () => {
  const role = find('ClusterRole', 'sockeye-collector')!;
  const granted = new Set<string>();
  for (const r of role.rules) {
    assert.deepEqual([...r.verbs].sort(), ['get', 'list', 'watch']);
    for (const g of r.apiGroups) for (const res of r.resources) granted.add(`${g}/${res}`);
  }
  assert.deepEqual([...granted].sort(), ['/nodes', '/pods', '/services', 'apps/replicasets', 'batch/jobs']);
  const cache = readFileSync(new URL('otel-collector/k8s/k8s-cache.ts', root), 'utf8');
  for (const path of ['/api/v1/pods', '/api/v1/services', '/api/v1/nodes', '/apis/apps/v1/replicasets', '/apis/batch/v1/jobs']) assert.ok(cache.includes(`'${path}'`), path);
  const binding = find('ClusterRoleBinding', 'sockeye-collector')!;
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'sockeye-collector', namespace: 'sockeye' }]);
});

test('agent DaemonSet: named capabilities only, hostPID, hostNetwork, tracefs and BTF mounted read-only', () => {
  const ds = find('DaemonSet', 'sockeye-agent')!;
  const spec = ds.spec.template.spec;
  assert.equal(spec.hostPID, true);
  assert.equal(spec.hostNetwork, true);
  assert.equal(spec.dnsPolicy, 'ClusterFirstWithHostNet');
  const c = spec.containers[0];
  assert.equal(c.securityContext.privileged, false);
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: ['BPF', 'PERFMON', 'NET_ADMIN', 'SYS_PTRACE'] });
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(c.securityContext.seccompProfile, { type: 'Unconfined' }, 'default profiles may refuse bpf()');
  assert.ok(c.volumeMounts.every((m: Doc) => m.readOnly === true), 'no writable host mount');
  const mounts = Object.fromEntries(c.volumeMounts.map((m: Doc) => [m.mountPath, m.name]));
  const host = Object.fromEntries(spec.volumes.map((v: Doc) => [v.name, v.hostPath?.path]));
  for (const p of ['/sys/kernel/tracing', '/sys/kernel/btf']) assert.equal(host[mounts[p]], p, `${p} mounted from the host`);
  assert.match(c.env.find((e: Doc) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT').value, /sockeye-collector\.sockeye\.svc:4317/);
});

test('collector: ConfigMap is the default pipeline verbatim, it validates, and the Service exposes its ports', () => {
  const cm = find('ConfigMap', 'sockeye-collector-config')!;
  const yamlText = readFileSync(new URL('processor-config/collector.yaml', root), 'utf8');
  assert.equal(cm.data['collector.yaml'], yamlText, 'run node deploy/render-configmap.mjs');
  const cfg = parseConfig(yamlText, testRegistry(), {});
  const traces = cfg.service.pipelines.find((p) => p.id === 'traces')!;
  assert.deepEqual(traces.processors, ['memory_limiter', 'nat', 'k8s_attributes', 'batch']);
  const dep = find('Deployment', 'sockeye-collector')!;
  const c = dep.spec.template.spec.containers[0];
  assert.equal(dep.spec.template.spec.serviceAccountName, 'sockeye-collector');
  assert.deepEqual(c.args, ['collector', '--config', '/etc/sockeye/collector.yaml']);
  const ports = c.ports.map((p: Doc) => p.containerPort).sort((a: number, b: number) => a - b);
  assert.deepEqual(ports, [4317, 4318, 8888, 8889, 13133]);
  const svc = find('Service', 'sockeye-collector')!;
  assert.deepEqual(svc.spec.ports.map((p: Doc) => p.port).sort(), [4317, 4318, 8888, 8889]);
});

const noKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error ? 'kubectl is not installed' : undefined;
test('kubectl kustomize renders deploy/ into the full set of objects', { skip: noKubectl }, () => {
  const out = execFileSync('kubectl', ['kustomize', new URL('deploy/', root).pathname], { encoding: 'utf8' });
  const kinds = parseAllDocuments(out).map((d) => (d.toJS() as Doc).kind).sort();
  assert.deepEqual(kinds, ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet', 'Deployment', 'Namespace', 'Service', 'ServiceAccount', 'ServiceAccount']);
});
