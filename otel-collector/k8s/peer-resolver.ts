// Gives the other end of a span (an IP address) its Kubernetes identity: a pod, else a Service
// ClusterIP, else a node, else `external`. Keys are the resource keys of the semantic conventions
// under PEER_PREFIX, so both ends of a span read alike: sockeye.peer.k8s.pod.name, …
import type { KeyValue } from '../pdata/types.js';
import type { K8sIndexes, PodIdentity } from './k8s-indexes.js';
import { setString } from './span-attributes.js';

export const PEER_PREFIX = 'sockeye.peer.';
/** pod | service | node | external */
export const PEER_KIND = `${PEER_PREFIX}kind`;

export type PeerKind = 'pod' | 'service' | 'node' | 'external';

export function writePodPeer(attrs: KeyValue[], id: PodIdentity): void {
  for (const [k, v] of Object.entries(id)) if (v !== undefined) setString(attrs, PEER_PREFIX + k, v);
}

export function writeServicePeer(attrs: KeyValue[], name: string, namespace: string | undefined): void {
  setString(attrs, `${PEER_PREFIX}k8s.service.name`, name);
  if (namespace) setString(attrs, `${PEER_PREFIX}k8s.namespace.name`, namespace);
}

/** Writes the peer keys for `ip`; returns what it was. */
export function resolvePeer(ix: K8sIndexes, ip: string, attrs: KeyValue[]): PeerKind {
  const pod = ix.podForIp(ip);
  if (pod) {
    writePodPeer(attrs, ix.identity(pod));
    setString(attrs, PEER_KIND, 'pod');
    return 'pod';
  }
  const svc = ix.serviceForIp(ip);
  if (svc) {
    writeServicePeer(attrs, svc.metadata.name, svc.metadata.namespace);
    setString(attrs, PEER_KIND, 'service');
    return 'service';
  }
  const node = ix.nodeForIp(ip);
  if (node) {
    setString(attrs, `${PEER_PREFIX}k8s.node.name`, node);
    setString(attrs, PEER_KIND, 'node');
    return 'node';
  }
  setString(attrs, PEER_KIND, 'external');
  return 'external';
}
