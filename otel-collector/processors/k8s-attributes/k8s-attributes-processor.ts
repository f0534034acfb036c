// processor `k8s_attributes`: gives both ends of every span their Kubernetes identity from the
// shared metadata cache. Local end (resource): found by k8s.pod.uid, else container.id; adds
// namespace, pod, node and owner (deployment, statefulset, daemonset, job, cronjob) keys the sender
// did not set. Peer end (span): network.peer.address, else server.address (CLIENT) or
// client.address (SERVER) → pod / Service / node / external under the sockeye.peer. prefix.
// Spans a previous stage already resolved (sockeye.peer.kind set, e.g. by `nat`) are left alone.
import { type Infer } from '../../component/config-schema.js';
import { consumeFn, consumerOf } from '../../component/consumer.js';
import type { ProcessorFactory } from '../../component/factory.js';
import type { KeyValue, Traces } from '../../pdata/types.js';
import { SpanKind } from '../../pdata/types.js';
import { acquireK8sCache, releaseK8sCache, type K8sCache } from '../../k8s/k8s-cache.js';
import { cacheOptions, k8sConnection } from '../../k8s/k8s-connection-config.js';
import { getString, isIp, normalizeIp, setIfAbsent } from '../../k8s/span-attributes.js';
import { PEER_KIND, resolvePeer } from '../../k8s/peer-resolver.js';
import type { K8sIndexes } from '../../k8s/k8s-indexes.js';
import type { Counter } from '../../component/self-telemetry.js';

const config = k8sConnection;
export type K8sAttributesConfig = Infer<typeof config>;

export interface EnrichCounters { local: Counter; peer: Counter; labels: Record<string, string> }

/** Enriches in place; exported so the benchmark and tests can drive it without a cache server. */
export function enrichTraces(ix: K8sIndexes, data: Traces, counters?: EnrichCounters): void {
  for (const rs of data.resourceSpans) {
    const res = rs.resource ?? (rs.resource = { attributes: [] });
    enrichLocal(ix, res.attributes, counters);
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        if (getString(span.attributes, PEER_KIND) !== undefined) continue;
        const addr = peerAddress(span.kind, span.attributes);
        if (!addr) continue;
        const kind = resolvePeer(ix, addr, span.attributes);
        counters?.peer.add(1, { ...counters.labels, result: kind });
      }
    }
  }
}

function enrichLocal(ix: K8sIndexes, attrs: KeyValue[], counters?: EnrichCounters): void {
  const uid = getString(attrs, 'k8s.pod.uid');
  const cid = uid ? undefined : getString(attrs, 'container.id');
  const pod = uid ? ix.podByUid(uid) : cid ? ix.podForContainer(cid) : undefined;
  if (!pod) {
    if (uid || cid) counters?.local.add(1, { ...counters.labels, result: 'unknown_pod' });
    return;
  }
  for (const [k, v] of Object.entries(ix.identity(pod))) if (v !== undefined) setIfAbsent(attrs, k, v);
  counters?.local.add(1, { ...counters.labels, result: 'pod' });
}

function peerAddress(kind: SpanKind, attrs: KeyValue[]): string | undefined {
  const candidates = [getString(attrs, 'network.peer.address'),
    kind === SpanKind.SERVER ? getString(attrs, 'client.address') : getString(attrs, 'server.address')];
  for (const c of candidates) if (c && isIp(c)) return normalizeIp(c);
  return undefined;
}

export const k8sAttributesProcessorFactory: ProcessorFactory<K8sAttributesConfig> = {
  type: 'k8s_attributes',
  kind: 'processor',
  signals: ['traces'],
  mutatesData: true,
  config,
  create(s, cfg, signal, next) {
    const send = consumeFn(next, signal)!;
    let cache: K8sCache | undefined;
    const counters: EnrichCounters = {
      local: s.telemetry.counter('k8s_local_lookups', 'Resources looked up in the Kubernetes cache, by result.'),
      peer: s.telemetry.counter('k8s_peer_lookups', 'Span peers looked up in the Kubernetes cache, by result (pod, service, node, external).'),
      labels: { processor: s.id.toString() },
    };
    return {
      ...consumerOf(signal, async (d) => {
        if (cache) enrichTraces(cache.indexes, d as Traces, counters);
        return send(d);
      }),
      async start() {
        cache = await acquireK8sCache(cacheOptions(cfg, s.logger), cfg.wait_for_sync);
        for (const [k, read] of Object.entries({ pods: 'pods', services: 'services', nodes: 'nodes' })) {
          s.telemetry.gauge('k8s_cache_objects', 'Objects held in the Kubernetes metadata cache, by kind.', () => cache?.indexes.sizes()[read] ?? 0, { kind: k });
        }
      },
      async shutdown() { if (cache) await releaseK8sCache(cache); cache = undefined; },
    };
  },
};
