// processor `k8s_attributes`: gives both ends of every span their Kubernetes identity from the
// shared metadata cache. Local end (resource): found by k8s.pod.uid, else container.id; adds
// namespace, pod, node and owner (deployment, statefulset, daemonset, job, cronjob) keys the sender
// did not set. Peer end (span): network.peer.address, else server.address (CLIENT) or
// client.address (SERVER) → pod / Service / node / external under the sockeye.peer. prefix.
// Spans a previous stage already resolved (sockeye.peer.kind set, e.g. by `nat`) are left alone.
// Metrics: the local end (the agents' metric resources carry k8s.pod.uid); TCP network-health
// points (sockeye.tcp.*) also get their peer's identity from server.address, else client.address,
// else network.peer.address, the same way as spans (a function of the address: no new series).
import { type Infer } from '../../../common/config/config-schema.js';
import { consumeFn, consumerOf } from '../../component/consumer.js';
import type { ProcessorFactory } from '../../component/factory.js';
import type { KeyValue, Metric, Metrics, Traces } from '../../pdata/types.js';
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
  // Tallied per call and added once: label handling per span would cost more than the lookup.
  let pods = 0, services = 0, nodes = 0, external = 0, localPod = 0, localUnknown = 0;
  for (const rs of data.resourceSpans) {
    const res = rs.resource ?? (rs.resource = { attributes: [] });
    const local = enrichLocal(ix, res.attributes);
    if (local === 'pod') localPod++; else if (local === 'unknown_pod') localUnknown++;
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        // One pass over the attributes picks every key we need.
        let peer: string | undefined, server: string | undefined, client: string | undefined;
        let resolved = false;
        for (const kv of span.attributes) {
          const k = kv.key;
          if (k === 'network.peer.address') peer = kv.value?.stringValue ?? undefined;
          else if (k === 'server.address') server = kv.value?.stringValue ?? undefined;
          else if (k === 'client.address') client = kv.value?.stringValue ?? undefined;
          else if (k === PEER_KIND) { resolved = true; break; }
        }
        if (resolved) continue;
        const other = span.kind === SpanKind.SERVER ? client : server;
        const addr = peer && isIp(peer) ? peer : other && isIp(other) ? other : undefined;
        if (!addr) continue;
        const kind = resolvePeer(ix, normalizeIp(addr), span.attributes, true);
        if (kind === 'pod') pods++; else if (kind === 'service') services++; else if (kind === 'node') nodes++; else external++;
      }
    }
  }
  if (!counters) return;
  const l = counters.labels;
  if (pods) counters.peer.add(pods, { ...l, result: 'pod' });
  if (services) counters.peer.add(services, { ...l, result: 'service' });
  if (nodes) counters.peer.add(nodes, { ...l, result: 'node' });
  if (external) counters.peer.add(external, { ...l, result: 'external' });
  countLocal(counters, localPod, localUnknown);
}

function countLocal(counters: EnrichCounters, pods: number, unknown: number): void {
  if (pods) counters.local.add(pods, { ...counters.labels, result: 'pod' });
  if (unknown) counters.local.add(unknown, { ...counters.labels, result: 'unknown_pod' });
}

function enrichLocal(ix: K8sIndexes, attrs: KeyValue[]): 'pod' | 'unknown_pod' | undefined {
  const uid = getString(attrs, 'k8s.pod.uid');
  const cid = uid ? undefined : getString(attrs, 'container.id');
  const pod = uid ? ix.podByUid(uid) : cid ? ix.podForContainer(cid) : undefined;
  if (!pod) return uid || cid ? 'unknown_pod' : undefined;
  for (const [k, v] of Object.entries(ix.identity(pod))) if (v !== undefined) setIfAbsent(attrs, k, v);
  return 'pod';
}

/** Metrics whose points name a TCP peer (docs/network-health.md). */
export const TCP_METRIC_PREFIX = 'sockeye.tcp.';
const PEER_KEYS = ['server.address', 'client.address', 'network.peer.address'];

/** Metric resources get the same local identity as span resources (namespace, pod, node, owner);
 *  network-health points get their peer's. */
export function enrichMetrics(ix: K8sIndexes, data: Metrics, counters?: EnrichCounters): void {
  let localPod = 0, localUnknown = 0;
  const peers: Record<string, number> = {};
  for (const rm of data.resourceMetrics) {
    const res = rm.resource ?? (rm.resource = { attributes: [] });
    const local = enrichLocal(ix, res.attributes);
    if (local === 'pod') localPod++; else if (local === 'unknown_pod') localUnknown++;
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) if (m.name.startsWith(TCP_METRIC_PREFIX)) enrichTcpPeers(ix, m, peers);
  }
  if (!counters) return;
  countLocal(counters, localPod, localUnknown);
  for (const [result, n] of Object.entries(peers)) counters.peer.add(n, { ...counters.labels, result });
}

function enrichTcpPeers(ix: K8sIndexes, m: Metric, peers: Record<string, number>): void {
  const points = m.sum?.dataPoints ?? m.histogram?.dataPoints ?? m.gauge?.dataPoints ?? m.exponentialHistogram?.dataPoints ?? [];
  for (const p of points) {
    if (p.attributes.some((kv) => kv.key === PEER_KIND)) continue; // resolved before (another processor)
    let addr: string | undefined;
    for (const key of PEER_KEYS) {
      const v = getString(p.attributes, key);
      if (v && isIp(v)) { addr = v; break; }
    }
    if (!addr) continue;
    const kind = resolvePeer(ix, normalizeIp(addr), p.attributes, true);
    peers[kind] = (peers[kind] ?? 0) + 1;
  }
}

export const k8sAttributesProcessorFactory: ProcessorFactory<K8sAttributesConfig> = {
  type: 'k8s_attributes',
  kind: 'processor',
  signals: ['traces', 'metrics'],
  mutatesData: true,
  config,
  create(s, cfg, signal, next) {
    const send = consumeFn(next, signal)!;
    let cache: K8sCache | undefined;
    const counters: EnrichCounters = {
      local: s.telemetry.counter('k8s_local_lookups', 'Resources looked up in the Kubernetes cache, by result.'),
      peer: s.telemetry.counter('k8s_peer_lookups', 'Span and TCP-metric peers looked up in the Kubernetes cache, by result (pod, service, node, external).'),
      labels: { processor: s.id.toString() },
    };
    return {
      ...consumerOf(signal, async (d) => {
        if (cache) {
          if (signal === 'metrics') enrichMetrics(cache.indexes, d as Metrics, counters);
          else enrichTraces(cache.indexes, d as Traces, counters);
        }
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
