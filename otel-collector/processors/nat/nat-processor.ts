// processor `nat`: a CLIENT span whose agent saw its connection DNATed (a Service VIP translated to
// a backend by kube-proxy) carries the post-NAT destination as sockeye.nat.peer.address/.port. This
// processor names that backend as the span's peer (pod keys under sockeye.peer.) while keeping the
// Service the client dialed (sockeye.peer.k8s.service.name, from the VIP in server.address /
// network.peer.address, which stay as they were). Spans without the NAT keys pass unchanged — that
// includes Cilium socket-LB, where the socket already shows the pod IP.
import { type Infer } from '../../../common/config/config-schema.js';
import { consumeFn, consumerOf } from '../../component/consumer.js';
import type { ProcessorFactory } from '../../component/factory.js';
import type { Traces } from '../../pdata/types.js';
import { acquireK8sCache, releaseK8sCache, type K8sCache } from '../../k8s/k8s-cache.js';
import { cacheOptions, k8sConnection } from '../../k8s/k8s-connection-config.js';
import { isIp, normalizeIp } from '../../k8s/span-attributes.js';
import { writeNodePeer, writePeerKind, writePodPeer, writeServicePeer } from '../../k8s/peer-resolver.js';
import type { K8sIndexes } from '../../k8s/k8s-indexes.js';
import type { Counter } from '../../component/self-telemetry.js';
import { NAT_PEER_ADDRESS, NAT_PEER_PORT } from '../../../common/semconv/sockeye-attributes.js';

const config = k8sConnection;
export type NatConfig = Infer<typeof config>;

/** Resolves NATed spans in place; returns how many spans carried a translation. */
export function resolveNat(ix: K8sIndexes, data: Traces, counter?: Counter, labels: Record<string, string> = {}): number {
  let n = 0, pods = 0, nodes = 0, unknown = 0, bad = 0;
  for (const rs of data.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const a = span.attributes;
        let raw: string | undefined, server: string | undefined, peer: string | undefined;
        for (const kv of a) {
          const k = kv.key;
          if (k === NAT_PEER_ADDRESS) raw = kv.value?.stringValue ?? undefined;
          else if (k === 'server.address') server = kv.value?.stringValue ?? undefined;
          else if (k === 'network.peer.address') peer = kv.value?.stringValue ?? undefined;
        }
        if (raw === undefined) continue;
        n++;
        if (!isIp(raw)) { bad++; continue; }
        const backend = normalizeIp(raw);
        // The Service identity comes from the address the client dialed.
        const dialed = server && isIp(server) ? server : peer && isIp(peer) ? peer : undefined;
        const svc = dialed ? ix.serviceForIp(normalizeIp(dialed)) : undefined;
        if (svc) writeServicePeer(a, svc.metadata.name, svc.metadata.namespace);
        const pod = ix.podForIp(backend);
        if (pod) {
          writePodPeer(a, ix.identity(pod));
          writePeerKind(a, 'pod');
          pods++;
          continue;
        }
        const node = ix.nodeForIp(backend);
        if (node) { writeNodePeer(a, node); writePeerKind(a, 'node'); nodes++; }
        else { writePeerKind(a, 'external'); unknown++; }
      }
    }
  }
  if (counter) {
    if (pods) counter.add(pods, { ...labels, result: 'pod' });
    if (nodes) counter.add(nodes, { ...labels, result: 'node' });
    if (unknown) counter.add(unknown, { ...labels, result: 'unknown_backend' });
    if (bad) counter.add(bad, { ...labels, result: 'bad_address' });
  }
  return n;
}

export const natProcessorFactory: ProcessorFactory<NatConfig> = {
  type: 'nat',
  kind: 'processor',
  signals: ['traces'],
  mutatesData: true,
  config,
  create(s, cfg, signal, next) {
    const send = consumeFn(next, signal)!;
    let cache: K8sCache | undefined;
    const counter = s.telemetry.counter('nat_resolutions', 'Spans with a conntrack translation, by what the backend address resolved to.');
    const labels = { processor: s.id.toString() };
    return {
      ...consumerOf(signal, async (d) => {
        if (cache) resolveNat(cache.indexes, d as Traces, counter, labels);
        return send(d);
      }),
      async start() { cache = await acquireK8sCache(cacheOptions(cfg, s.logger), cfg.wait_for_sync); },
      async shutdown() { if (cache) await releaseK8sCache(cache); cache = undefined; },
    };
  },
};
