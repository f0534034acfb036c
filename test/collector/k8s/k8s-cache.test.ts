// The metadata cache on its own, against the API test server (a stand-in for the Kubernetes API
// server speaking its list/watch protocol): paged lists, resync healing a missed delete, and the
// degraded flag through an outage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { K8sCache, loadKubeConfig } from '../../../otel-collector/k8s/k8s-cache.js';
import { silentLogger } from '../../../otel-collector/component/logger.js';
import { waitFor } from '../helpers/collector-harness.js';
import { fixtureApiServer } from '../helpers/k8s-test-helpers.js';
import { PATHS } from '../helpers/k8s-api-test-server.js';

async function setup(resyncMs = 0) {
  const api = await fixtureApiServer();
  const kc = loadKubeConfig({ authType: 'kubeConfig', kubeconfigPath: api.writeKubeconfig() });
  const cache = new K8sCache(kc, { authType: 'kubeConfig', resyncMs, kinds: ['replicasets', 'jobs', 'services', 'nodes'], pageSize: 2, logger: silentLogger });
  await cache.start(5000);
  return { api, cache };
}

test('first sync reads every kind through paged lists', async () => {
  const { api, cache } = await setup();
  try {
    assert.equal(cache.stats.synced, true);
    assert.deepEqual(cache.indexes.sizes(), { pods: 6, pod_ips: 5, containers: 6, services: 2, nodes: 2, replicasets: 1, jobs: 1 });
    assert.equal(api.count(`list ${PATHS.pods}`), 3, '6 pods in pages of 2');
    assert.equal(cache.indexes.podForIp('198.18.0.11'), undefined, 'a host-network pod does not own the node IP');
    assert.equal(cache.indexes.nodeForIp('198.18.0.11'), 'node-a');
    assert.equal(cache.indexes.serviceForIp('None'), undefined, 'headless Services have no ClusterIP');
  } finally { await cache.stop(); await api.stop(); }
});

test('resync drops an object whose DELETE event was missed', async () => {
  const { api, cache } = await setup(300);
  try {
    assert.ok(cache.indexes.podForIp('198.18.10.20'));
    api.removeSilently(PATHS.pods, 'db-0', 'shop');
    await waitFor(() => cache.indexes.podForIp('198.18.10.20') === undefined, 3000, 'resync');
    assert.ok(cache.indexes.podForIp('198.18.10.10'), 'the rest stays');
  } finally { await cache.stop(); await api.stop(); }
});

test('outage: degraded while the API is down, lookups keep working, recovered after', async () => {
  const { api, cache } = await setup();
  try {
    await api.stop();
    await waitFor(() => cache.stats.degraded, 35_000, 'degraded');
    assert.equal(cache.indexes.podByUid('uid-db-0')?.metadata.name, 'db-0');
    await api.start(api.port);
    await waitFor(() => !cache.stats.degraded, 35_000, 'recovered');
    assert.ok(cache.stats.watchRestarts > 0);
  } finally { await cache.stop(); await api.stop(); }
});
