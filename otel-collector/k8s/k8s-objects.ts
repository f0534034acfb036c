// The few fields of each watched Kubernetes object the collector uses. Objects are cut down to
// these as soon as they arrive (list pages and watch events alike), so the cache holds a small
// fraction of what the API server sends — the difference between MBs and GBs in a big cluster.
// Input may be the client's typed models (Dates) or raw watch JSON (strings): both are accepted.

export interface SlimMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  /** ms since epoch; 0 when unknown. */
  created: number;
  deleting: boolean;
  /** The controlling owner (ownerReferences[controller=true]), when any. */
  owner?: { kind: string; name: string };
}

export interface SlimPod {
  metadata: SlimMeta;
  nodeName?: string;
  hostNetwork: boolean;
  ips: string[];
  /** Container ids without the runtime prefix (containerd://, cri-o://, docker://). */
  containerIds: string[];
  /** Succeeded or Failed: the pod no longer holds its IP. */
  terminal: boolean;
}
export interface SlimOwner { metadata: SlimMeta }
export interface SlimService { metadata: SlimMeta; clusterIPs: string[] }
export interface SlimNode { metadata: SlimMeta; addresses: string[] }

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const time = (v: unknown): number => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) || 0 : 0);

export function slimMeta(m: Raw | undefined): SlimMeta {
  const meta = m ?? {};
  const ctrl = Array.isArray(meta.ownerReferences) ? meta.ownerReferences.find((o: Raw) => o?.controller) ?? meta.ownerReferences[0] : undefined;
  const out: SlimMeta = {
    name: String(meta.name ?? ''),
    uid: String(meta.uid ?? ''),
    created: time(meta.creationTimestamp),
    deleting: meta.deletionTimestamp != null,
  };
  if (meta.namespace) out.namespace = String(meta.namespace);
  if (meta.resourceVersion) out.resourceVersion = String(meta.resourceVersion);
  if (ctrl?.kind && ctrl?.name) out.owner = { kind: String(ctrl.kind), name: String(ctrl.name) };
  return out;
}

export const stripContainerId = (id: string) => { const i = id.indexOf('://'); return i >= 0 ? id.slice(i + 3) : id; };

export function slimPod(p: Raw): SlimPod {
  const status = p.status ?? {};
  const ips = new Set<string>();
  if (status.podIP) ips.add(String(status.podIP));
  for (const x of status.podIPs ?? []) if (x?.ip) ips.add(String(x.ip));
  const containerIds: string[] = [];
  for (const list of [status.containerStatuses, status.initContainerStatuses, status.ephemeralContainerStatuses]) {
    for (const c of list ?? []) if (c?.containerID) containerIds.push(stripContainerId(String(c.containerID)));
  }
  const out: SlimPod = {
    metadata: slimMeta(p.metadata),
    hostNetwork: p.spec?.hostNetwork === true,
    ips: [...ips],
    containerIds,
    terminal: status.phase === 'Succeeded' || status.phase === 'Failed',
  };
  if (p.spec?.nodeName) out.nodeName = String(p.spec.nodeName);
  return out;
}

export const slimOwner = (o: Raw): SlimOwner => ({ metadata: slimMeta(o.metadata) });

export function slimService(s: Raw): SlimService {
  const ips = new Set<string>();
  for (const ip of [s.spec?.clusterIP, ...(s.spec?.clusterIPs ?? [])]) if (ip && ip !== 'None') ips.add(String(ip));
  return { metadata: slimMeta(s.metadata), clusterIPs: [...ips] };
}

export function slimNode(n: Raw): SlimNode {
  const addresses = (n.status?.addresses ?? [])
    .filter((a: Raw) => a?.type === 'InternalIP' || a?.type === 'ExternalIP')
    .map((a: Raw) => String(a.address));
  return { metadata: slimMeta(n.metadata), addresses };
}
