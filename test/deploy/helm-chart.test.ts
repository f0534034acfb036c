// deploy/helm/sockeye rendered by the real helm (helpers/helm-binary.ts) with default and overridden
// values; `helm lint --strict` passes; every rendered object validates against the Kubernetes
// schemas of the kubernetes-models package. The rendered objects must
// match the plain manifests in deploy/ where it matters, and the configs they carry must load with
// the agent's and the collector's own config parsers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseConfig } from '../../otel-collector/service/collector-config.js';
import { builtinRegistry } from '../../otel-collector/components.js';
import { configFromObject, parseYamlConfig } from '../../agent/config/agent-config.js';
import { renderChart, plainManifests, find, root, chartDir, type Doc } from './helpers/render-chart.js';
import { helm } from './helpers/helm-binary.js';

const plain = plainManifests();
const chart = renderChart();
const agentConfig = (docs: Doc[], prefix = 'sockeye') => {
  const text = find(docs, 'ConfigMap', `${prefix}-agent-config`)!.data['agent.yaml'] as string;
  return configFromObject(parseYamlConfig(text, 'agent.yaml'), 'agent.yaml'); // unknown keys or bad values throw
};

test('default render has every object of the plain manifests, plus the agent config', () => {
  const ids = (docs: Doc[]) => docs.map((d) => `${d.kind}/${d.metadata.name}`).sort();
  assert.deepEqual(ids(renderChart({ namespace: { create: true } })), [...ids(plain), 'ConfigMap/sockeye-agent-config'].sort());
  assert.equal(chart.find((d) => d.kind === 'Namespace'), undefined, 'default: helm install -n NS --create-namespace makes it');
  assert.deepEqual(find(renderChart({ namespace: { create: true } }), 'Namespace', 'sockeye'), find(plain, 'Namespace', 'sockeye'));
  for (const d of chart) if (d.kind !== 'Namespace' && !d.kind.startsWith('Cluster')) assert.equal(d.metadata.namespace, 'sockeye', `${d.kind}/${d.metadata.name}`);
});

test('agent DaemonSet: the privileges, host namespaces, mounts and probes of the plain manifest', () => {
  const [c, p] = [find(chart, 'DaemonSet', 'sockeye-agent')!, find(plain, 'DaemonSet', 'sockeye-agent')!];
  const [cs, ps] = [c.spec.template.spec, p.spec.template.spec];
  for (const k of ['hostPID', 'hostNetwork', 'dnsPolicy', 'serviceAccountName', 'priorityClassName', 'tolerations', 'nodeSelector']) assert.deepEqual(cs[k], ps[k], k);
  assert.deepEqual(cs.nodeSelector, { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' });
  assert.equal(cs.priorityClassName, undefined, 'no system-node-critical outside kube-system');
  assert.equal(cs.hostPID, true);
  const [cc, pc] = [cs.containers[0], ps.containers[0]];
  assert.deepEqual(cc.securityContext, { privileged: false, readOnlyRootFilesystem: true, seccompProfile: { type: 'Unconfined' }, capabilities: { drop: ['ALL'], add: ['BPF', 'PERFMON', 'NET_ADMIN', 'SYS_PTRACE'] } });
  assert.ok(cc.volumeMounts.every((m: Doc) => m.readOnly === true), 'no writable mount');
  const old = find(renderChart({ agent: { privileged: true } }), 'DaemonSet', 'sockeye-agent')!.spec.template.spec.containers[0];
  assert.deepEqual(old.securityContext, { privileged: true }, 'agent.privileged=true: the switch for kernels without CAP_BPF (before 5.8, or vendor backports)');
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
  assert.match(c.spec.template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/);
  delete c.spec.template.metadata.annotations['checksum/config'];
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
    image: { repository: 'registry.example/sockeye', tag: '9.9.9' },
    agent: { metricsPort: 9500, payloadCap: 16384, export: { protocol: 'http/protobuf' }, nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations: [], resources: { limits: { memory: '1Gi' } } },
    collector: { replicas: 2, tolerations: [{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }], config: 'receivers: {}\n' },
  }, 'obs');
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
  assert.deepEqual(ds.nodeSelector, { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' }, 'maps merge');
  assert.equal(ds.tolerations, undefined, 'an empty list renders no key');
  assert.deepEqual(ds.containers[0].resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } }, 'maps merge: default requests kept');
  const dep = find(docs, 'Deployment', 'sockeye-collector')!.spec;
  assert.equal(dep.replicas, 2);
  assert.deepEqual(dep.template.spec.tolerations, [{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }]);
  assert.equal(find(docs, 'ConfigMap', 'sockeye-collector-config')!.data['collector.yaml'], 'receivers: {}\n');
  const own = agentConfig(renderChart({ agent: { export: { endpoint: 'http://otel.example:4317' } } }));
  assert.equal(own.export.endpoint, 'http://otel.example:4317');
});

test('helm lint --strict passes; every rendered object validates against the Kubernetes schemas', async () => {
  const lint = helm(['lint', '--strict', chartDir.pathname]);
  assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  const renders = [chart, renderChart({ namespace: { create: true }, agent: { privileged: true, maxUnavailable: 1 } }, 'kube-system', 'edge'),
    renderChart({ rbac: { create: false }, agent: { priorityClassName: 'node-agents', podAnnotations: { a: 'b' } },
      metrics: { podMonitor: { enabled: true, labels: { release: 'kps' } }, serviceMonitor: { enabled: true } } }, 'monitoring')];
  assert.deepEqual(renders[2]!.filter((d) => d.apiVersion.startsWith('monitoring.coreos.com/')).map((d) => `${d.kind}/${d.metadata.name}`),
    ['PodMonitor/sockeye-agent', 'ServiceMonitor/sockeye-collector']);
  assert.equal(renders[0]!.filter((d) => d.apiVersion.startsWith('monitoring.coreos.com/')).length, 0, 'monitors are opt-in');
  for (const docs of renders) for (const d of docs) {
    const pkg = d.apiVersion.startsWith('monitoring.coreos.com/') ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
    const mod = await import(`${pkg}/${d.apiVersion}/${d.kind}`);
    const model = new mod[d.kind](d);
    assert.doesNotThrow(() => model.validate(), `${d.kind}/${d.metadata.name}`);
  }
});

test('release-scoped: namespace from the release, names prefixed, int maxUnavailable, priority class only in kube-system', () => {
  const docs = renderChart({ agent: { maxUnavailable: 1 } }, 'kube-system', 'edge');
  for (const d of docs) {
    if (!d.kind.startsWith('Cluster')) assert.equal(d.metadata.namespace, 'kube-system', `${d.kind}/${d.metadata.name}`);
    assert.match(d.metadata.name, /^edge-sockeye-/, `${d.kind}/${d.metadata.name}`);
  }
  const ds = find(docs, 'DaemonSet', 'edge-sockeye-agent')!;
  assert.equal(ds.spec.updateStrategy.rollingUpdate.maxUnavailable, 1, 'an int, as the API server wants');
  assert.equal(ds.spec.template.spec.priorityClassName, 'system-node-critical');
  assert.equal(ds.spec.template.spec.serviceAccountName, 'edge-sockeye-agent');
  assert.equal(agentConfig(docs, 'edge-sockeye').export.endpoint, 'http://edge-sockeye-collector.kube-system.svc:4317');
  assert.equal(find(docs, 'ClusterRoleBinding', 'edge-sockeye-collector')!.roleRef.name, 'edge-sockeye-collector');
  assert.equal(find(chart, 'DaemonSet', 'sockeye-agent')!.spec.updateStrategy.rollingUpdate.maxUnavailable, '10%');
  const own = find(renderChart({ agent: { priorityClassName: 'node-agents' } }, 'monitoring'), 'DaemonSet', 'sockeye-agent')!;
  assert.equal(own.spec.template.spec.priorityClassName, 'node-agents');
});

test('scrape annotations point at the ports that serve /metrics; monitors select the chart\'s pods', () => {
  const fresh = renderChart();
  const ann = (kind: string, name: string) => find(fresh, kind, name)!.spec.template.metadata.annotations;
  assert.deepEqual([ann('DaemonSet', 'sockeye-agent')['prometheus.io/port'], ann('Deployment', 'sockeye-collector')['prometheus.io/port']], ['9464', '8889']);
  const docs = renderChart({ metrics: { podMonitor: { enabled: true }, serviceMonitor: { enabled: true } } });
  const pm = find(docs, 'PodMonitor', 'sockeye-agent')!;
  assert.deepEqual(pm.spec.selector.matchLabels, find(docs, 'DaemonSet', 'sockeye-agent')!.spec.selector.matchLabels);
  assert.ok(find(docs, 'DaemonSet', 'sockeye-agent')!.spec.template.spec.containers[0].ports.some((p: Doc) => p.name === pm.spec.podMetricsEndpoints[0].port));
  const sm = find(docs, 'ServiceMonitor', 'sockeye-collector')!;
  const svcPorts = find(docs, 'Service', 'sockeye-collector')!.spec.ports.map((p: Doc) => p.name);
  for (const e of sm.spec.endpoints) assert.ok(svcPorts.includes(e.port), e.port);
  assert.deepEqual(sm.spec.selector.matchLabels, find(docs, 'Service', 'sockeye-collector')!.metadata.labels);
});

test('config checksum: a new agent or collector config changes the pod template, so helm upgrade rolls the pods', () => {
  const sum = (docs: Doc[], kind: string, name: string) => find(docs, kind, name)!.spec.template.metadata.annotations['checksum/config'];
  const base = renderChart();
  const other = renderChart({ agent: { payloadCap: 1024 }, collector: { config: 'receivers: {}\n' } });
  assert.notEqual(sum(other, 'DaemonSet', 'sockeye-agent'), sum(base, 'DaemonSet', 'sockeye-agent'));
  assert.notEqual(sum(other, 'Deployment', 'sockeye-collector'), sum(base, 'Deployment', 'sockeye-collector'));
  assert.equal(sum(renderChart(), 'DaemonSet', 'sockeye-agent'), sum(base, 'DaemonSet', 'sockeye-agent'), 'stable for the same config');
});
