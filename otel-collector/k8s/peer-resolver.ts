// Gives the other end of a span (an IP address) its Kubernetes identity: a pod, else a Service
// ClusterIP, else a node, else `external`. Keys are the resource keys of the semantic conventions
// under PEER_PREFIX, so both ends of a span read alike: sockeye.peer.k8s.pod.name, …
// Hot path (every span): the attribute values are built once per pod/Service/node and shared
// (AnyValue objects are never mutated in place; setters replace a KeyValue's value), so a span
// costs one small KeyValue object per key added.
import type { AnyValue, KeyValue } from '../pdata/types.js';
import type { K8sIndexes, PodIdentity } from './k8s-indexes.js';

export const PEER_PREFIX = 'sockeye.peer.';
/** pod | service | node | external */
export const PEER_KIND = `${PEER_PREFIX}kind`;

export type PeerKind = 'pod' | 'service' | 'node' | 'external';

type Pairs = [key: string, value: AnyValue][];
const KIND_VALUE: Record<PeerKind, AnyValue> = {
  pod: { stringValue: 'pod' }, service: { stringValue: 'service' }, node: { stringValue: 'node' }, external: { stringValue: 'external' },
};

const podPairs = new WeakMap<PodIdentity, Pairs>();
const namePairs = new Map<string, Pairs>();

export function podPeerPairs(id: PodIdentity): Pairs {
  let p = podPairs.get(id);
  if (!p) {
    p = [];
    for (const k of Object.keys(id) as (keyof PodIdentity)[]) { const v = id[k]; if (v !== undefined) p.push([PEER_PREFIX + k, { stringValue: v }]); }
    podPairs.set(id, p);
  }
  return p;
}

function servicePairs(name: string, namespace: string | undefined): Pairs {
  const key = `s/${namespace ?? ''}/${name}`;
  let p = namePairs.get(key);
  if (!p) {
    p = [[`${PEER_PREFIX}k8s.service.name`, { stringValue: name }]];
    if (namespace) p.push([`${PEER_PREFIX}k8s.namespace.name`, { stringValue: namespace }]);
    if (namePairs.size > 100_000) namePairs.clear(); // bounded: Services come and go
    namePairs.set(key, p);
  }
  return p;
}

function nodePairs(node: string): Pairs {
  const key = `n/${node}`;
  let p = namePairs.get(key);
  if (!p) { p = [[`${PEER_PREFIX}k8s.node.name`, { stringValue: node }]]; namePairs.set(key, p); }
  return p;
}

/** Sets the pairs on attrs: replaces existing keys (one scan of attrs), appends the rest. */
export function setPairs(attrs: KeyValue[], pairs: Pairs, assumeAbsent = false): void {
  if (!assumeAbsent) {
    let found = 0;
    for (const kv of attrs) {
      if (!kv.key.startsWith(PEER_PREFIX)) continue;
      for (const [k, v] of pairs) if (k === kv.key) { kv.value = v; found++; }
    }
    if (found === pairs.length) return;
    for (const [k, v] of pairs) if (!attrs.some((kv) => kv.key === k)) attrs.push({ key: k, value: v });
    return;
  }
  for (const [k, v] of pairs) attrs.push({ key: k, value: v });
}

export const writePodPeer = (attrs: KeyValue[], id: PodIdentity, assumeAbsent = false) => setPairs(attrs, podPeerPairs(id), assumeAbsent);
export const writeServicePeer = (attrs: KeyValue[], name: string, namespace: string | undefined, assumeAbsent = false) =>
  setPairs(attrs, servicePairs(name, namespace), assumeAbsent);
export const writeNodePeer = (attrs: KeyValue[], node: string, assumeAbsent = false) => setPairs(attrs, nodePairs(node), assumeAbsent);
export const writePeerKind = (attrs: KeyValue[], kind: PeerKind, assumeAbsent = false) => setPairs(attrs, [[PEER_KIND, KIND_VALUE[kind]]], assumeAbsent);

/**
 * Writes the peer keys for `ip`; returns what it was. `assumeAbsent`: the caller knows the span has
 * no sockeye.peer.* keys yet (k8s_attributes checked sockeye.peer.kind), so keys are appended unscanned.
 */
export function resolvePeer(ix: K8sIndexes, ip: string, attrs: KeyValue[], assumeAbsent = false): PeerKind {
  const pod = ix.podForIp(ip);
  if (pod) {
    writePodPeer(attrs, ix.identity(pod), assumeAbsent);
    writePeerKind(attrs, 'pod', assumeAbsent);
    return 'pod';
  }
  const svc = ix.serviceForIp(ip);
  const kind: PeerKind = svc ? 'service' : ix.nodeForIp(ip) ? 'node' : 'external';
  if (svc) writeServicePeer(attrs, svc.metadata.name, svc.metadata.namespace, assumeAbsent);
  else if (kind === 'node') writeNodePeer(attrs, ix.nodeForIp(ip)!, assumeAbsent);
  writePeerKind(attrs, kind, assumeAbsent);
  return kind;
}
