// YAML config of k8s_attributes and nat: defaults, and each validation error names the key and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../otel-collector/service/collector-config.js';
import { testRegistry, startCollector } from '../helpers/collector-harness.js';

const yaml = (proc: string, body: string) => `
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" } } } }
processors:
  ${proc}:
${body.split('\n').map((l) => '    ' + l).join('\n')}
exporters: { capture: {} }
service: { pipelines: { traces: { receivers: [otlp], processors: [${proc}], exporters: [capture] } } }
`;

for (const proc of ['k8s_attributes', 'nat']) {
  test(`${proc}: defaults`, () => {
    const cfg = parseConfig(yaml(proc, '{}'), testRegistry());
    const c = cfg.processors.get(proc)!.config as Record<string, unknown>;
    assert.deepEqual(c, {
      auth_type: 'auto', kubeconfig: undefined, resync_period: 600_000, wait_for_sync: 10_000, page_size: 500,
      watch: { replicasets: true, jobs: true, services: true, nodes: true },
    });
  });

  const bad: [string, RegExp][] = [
    ['auth_type: token', new RegExp(`processors\\.${proc}\\.auth_type: must be one of "auto", "serviceAccount", "kubeConfig", got "token"`)],
    ['resync_period: often', new RegExp(`processors\\.${proc}\\.resync_period: must be a duration`)],
    ['page_size: 0', new RegExp(`processors\\.${proc}\\.page_size: must be an integer >= 1`)],
    ['watch: { pods: false }', new RegExp(`processors\\.${proc}\\.watch\\.pods: unknown field`)],
    ['kubeconfg: /x', new RegExp(`processors\\.${proc}\\.kubeconfg: unknown field`)],
    ['auth_type: serviceAccount\nkubeconfig: /x', new RegExp(`processors\\.${proc}\\.kubeconfig: cannot be used with auth_type "serviceAccount"`)],
  ];
  for (const [body, msg] of bad) {
    test(`${proc}: rejects ${body.replace('\n', '; ')}`, () => {
      assert.throws(() => parseConfig(yaml(proc, body), testRegistry()), msg);
    });
  }
}

test('a kubeconfig that does not exist fails start-up with the file named', async () => {
  await assert.rejects(startCollector(yaml('k8s_attributes', 'kubeconfig: /nonexistent/sockeye-kubeconfig')), /sockeye-kubeconfig/);
});
