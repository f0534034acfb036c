// deploy/helm/sockeye rendered with default and overridden values (Go-template subset renderer,
// helpers/go-template-subset.ts: helm itself is not installable here). The rendered objects must
// match the plain manifests in deploy/ where it matters, and the configs they carry must load with
// the agent's and the collector's own config parsers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseConfig } from '../../otel-collector/service/collector-config.js';
import { builtinRegistry } from '../../otel-collector/components.js';
import { defaultConfig, applyObject, parseYamlConfig } from '../../agent/config/agent-config.js';
import { renderChart, plainManifests, find, root, type Doc } from './helpers/render-chart.js';

const plain = plainManifests();
const chart = renderChart();
const agentConfig = (docs: Doc[]) => {
  const text = find(docs, 'ConfigMap', 'sockeye-agent-config')!.data['agent.yaml'] as string;
  const cfg = defaultConfig();
  applyObject(cfg, parseYamlConfig(text, 'agent.yaml'), 'agent.yaml'); // unknown keys or bad values throw
  return cfg;
};

test('default render has every object of the plain manifests, plus the agent config', () => {
  const ids = (docs: Doc[]) => docs.map((d) => `${d.kind}/${d.metadata.name}`).sort();
  assert.deepEqual(ids(chart), [...ids(plain), 'ConfigMap/sockeye-agent-config'].sort());
  for (const d of chart) if (d.kind !== 'Namespace' && !d.kind.startsWith('Cluster')) assert.equal(d.metadata.namespace, 'sockeye', `${d.kind}/${d.metadata.name}`);
});

test('agent DaemonSet: the privileges, host namespaces, mounts and probes of the plain manifest', () => {
  const [c, p] = [find(chart, 'DaemonSet', 'sockeye-agent')!, find(plain, 'DaemonSet', 'sockeye-agent')!];
  const [cs, ps] = [c.spec.template.spec, p.spec.template.spec];
  for (const k of ['hostPID', 'hostNetwork', 'dnsPolicy', 'serviceAccountName', 'priorityClassName', 'tolerations']) assert.deepEqual(cs[k], ps[k], k);
  assert.equal(cs.hostPID, true);
  const [cc, pc] = [cs.containers[0], ps.containers[0]];
  assert.deepEqual(cc.securityContext, { privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['BPF', 'PERFMON', 'NET_ADMIN', 'SYS_PTRACE'] } });
  assert.ok(cc.volumeMounts.every((m: Doc) => m.readOnly === true), 'no writable mount');
  const old = find(renderChart({ agent: { privileged: true } }), 'DaemonSet', 'sockeye-agent')!.spec.template.spec.containers[0];
  assert.deepEqual(old.securityContext, { privileged: true }, 'agent.privileged=true: the switch for kernels before 5.8');
  assert.deepEqual(cc.securityContext, pc.securityContext);
  for (const k of ['image', 'ports', 'readinessProbe', 'livenessProbe', 'resources']) assert.deepEqual(cc[k], pc[k], k);
  assert.deepEqual(cc.volumeMounts.filter((m: Doc) => m.name !== 'config'), pc.volumeMounts);
  assert.deepEqual(cs.volumes.filter((v: Doc) => v.name !== 'config'), ps.volumes);
  assert.deepEqual(c.spec.selector, p.spec.selector);
  assert.deepEqual(c.spec.updateStrategy, p.spec.updateStrategy);
  const nodeEnv = (ctr: Doc) => ctr.env.filter((e: Doc) => e.name === 'K8S_NODE_NAME' || e.name === 'OTEL_RESOURCE_ATTRIBUTES');
  assert.deepEqual(nodeEnv(cc), nodeEnv(pc));
  // The plain manifest passes listen/endpoint as flags and env; the chart writes them to the config file.
  const cfg = agentConfig(chart);
  assert.equal(cfg.listen, '0.0.0.0:9464');
  assert.equal(cfg.export.endpoint, pc.env.find((e: Doc) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT').value);
  assert.equal(cfg.export.protocol, 'grpc');
  assert.equal(cfg.capture.payloadCap, 4096);
  assert.deepEqual(cc.args, ['agent', '--config', '/etc/sockeye-agent/agent.yaml']);
});

test('collector Deployment and Service match the plain manifest; the ConfigMap is the default pipeline', () => {
  const [c, p] = [find(chart, 'Deployment', 'sockeye-collector')!, find(plain, 'Deployment', 'sockeye-collector')!];
  // imagePullPolicy IfNotPresent is what Kubernetes defaults to for a versioned tag; the chart makes it settable.
  const ctr = c.spec.template.spec.containers[0];
  assert.equal(ctr.imagePullPolicy, 'IfNotPresent');
  delete ctr.imagePullPolicy;
  assert.deepEqual(c.spec, p.spec);
  assert.deepEqual(find(chart, 'Service', 'sockeye-collector')!.spec, find(plain, 'Service', 'sockeye-collector')!.spec);
  const pipeline = readFileSync(new URL('processor-config/collector.yaml', root), 'utf8');
  const text = find(chart, 'ConfigMap', 'sockeye-collector-config')!.data['collector.yaml'] as string;
  assert.equal(text.trimEnd(), pipeline.trimEnd(), 'values.yaml is stale: run node deploy/helm/sync-collector-config.mjs');
  assert.deepEqual(find(chart, 'ConfigMap', 'sockeye-collector-config')!.data, find(plain, 'ConfigMap', 'sockeye-collector-config')!.data);
  const cfg = parseConfig(text, builtinRegistry(), {}, 'collector.yaml');
  assert.ok(cfg, 'the collector accepts the pipeline');
});

test('RBAC: the plain rules exactly, get/list/watch only; rbac.create=false drops role and binding', () => {
  const role = find(chart, 'ClusterRole', 'sockeye-collector')!;
  assert.deepEqual(role.rules, find(plain, 'ClusterRole', 'sockeye-collector')!.rules);
  for (const r of role.rules) assert.deepEqual(r.verbs, ['get', 'list', 'watch']);
  assert.deepEqual(find(chart, 'ClusterRoleBinding', 'sockeye-collector'), find(plain, 'ClusterRoleBinding', 'sockeye-collector'));
  assert.equal(find(chart, 'ServiceAccount', 'sockeye-agent')!.automountServiceAccountToken, false);
  const off = renderChart({ rbac: { create: false } });
  assert.equal(off.filter((d) => d.kind.startsWith('Cluster')).length, 0);
  assert.ok(find(off, 'ServiceAccount', 'sockeye-collector'), 'service accounts stay');
});

test('values reach the objects: namespace, image, agent config, scheduling, resources, pipeline', () => {
  const docs = renderChart({
    namespace: { name: 'obs', create: false },
    image: { repository: 'registry.example/sockeye', tag: '9.9.9' },
    agent: { metricsPort: 9500, payloadCap: 16384, export: { protocol: 'http/protobuf' }, nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations: [], resources: { limits: { memory: '1Gi' } } },
    collector: { replicas: 2, tolerations: [{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }], config: 'receivers: {}\n' },
  });
  assert.equal(docs.find((d) => d.kind === 'Namespace'), undefined);
  for (const d of docs) if (!d.kind.startsWith('Cluster')) assert.equal(d.metadata.namespace, 'obs', `${d.kind}/${d.metadata.name}`);
  assert.equal(find(docs, 'ClusterRoleBinding', 'sockeye-collector')!.subjects[0].namespace, 'obs');
  const cfg = agentConfig(docs);
  assert.equal(cfg.export.endpoint, 'http://sockeye-collector.obs.svc:4317');
  assert.equal(cfg.export.protocol, 'http/protobuf');
  assert.equal(cfg.capture.payloadCap, 16384);
  assert.equal(cfg.listen, '0.0.0.0:9500');
  const ds = find(docs, 'DaemonSet', 'sockeye-agent')!.spec.template.spec;
  assert.equal(ds.containers[0].image, 'registry.example/sockeye:9.9.9');
  assert.equal(ds.containers[0].readinessProbe.httpGet.port, 9500);
  assert.deepEqual(ds.nodeSelector, { 'kubernetes.io/os': 'linux' });
  assert.equal(ds.tolerations, undefined, 'an empty list renders no key');
  assert.deepEqual(ds.containers[0].resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } }, 'maps merge: default requests kept');
  const dep = find(docs, 'Deployment', 'sockeye-collector')!.spec;
  assert.equal(dep.replicas, 2);
  assert.deepEqual(dep.template.spec.tolerations, [{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }]);
  assert.equal(find(docs, 'ConfigMap', 'sockeye-collector-config')!.data['collector.yaml'], 'receivers: {}\n');
  const own = agentConfig(renderChart({ agent: { export: { endpoint: 'http://otel.example:4317' } } }));
  assert.equal(own.export.endpoint, 'http://otel.example:4317');
});

test('every value the templates read has a default in values.yaml', () => {
  const values = parse(readFileSync(new URL('deploy/helm/sockeye/values.yaml', root), 'utf8'));
  assert.equal(typeof values.collector.config, 'string');
  // renderChart() above rendered every branch taken by defaults; the missing-value check of the
  // renderer covers both branches of each if only when both are rendered, so render the other ones.
  assert.ok(renderChart({ namespace: { create: false }, rbac: { create: false }, agent: { priorityClassName: '', podAnnotations: { a: 'b' } }, collector: { podAnnotations: { c: 'd' }, nodeSelector: { e: 'f' } } }).length > 0);
});
