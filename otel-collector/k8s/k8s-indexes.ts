// Lookup indexes over the slim objects: pod by uid, by IP, by container id; Service by ClusterIP;
// node by IP and name; owners for ReplicaSet → Deployment and Job → CronJob. Pure and synchronous,
// fed by the informers' add/update/delete callbacks.
import type { SlimNode, SlimOwner, SlimPod, SlimService } from './k8s-objects.js';

export interface PodIdentity {
  'k8s.namespace.name'?: string;
  'k8s.pod.name': string;
  'k8s.pod.uid': string;
  'k8s.node.name'?: string;
  'k8s.deployment.name'?: string;
  'k8s.replicaset.name'?: string;
  'k8s.statefulset.name'?: string;
  'k8s.daemonset.name'?: string;
  'k8s.job.name'?: string;
  'k8s.cronjob.name'?: string;
}

const nsKey = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;

/** Which pod should own an IP when two claim it: a live pod over a finished or terminating one, then the newer. */
function rank(p: SlimPod): number[] {
  return [p.terminal || p.metadata.deleting ? 0 : 1, p.metadata.created];
}
function outranks(a: SlimPod, b: SlimPod): boolean {
  const ra = rank(a), rb = rank(b);
  return ra[0]! !== rb[0]! ? ra[0]! > rb[0]! : ra[1]! >= rb[1]!;
}

export class K8sIndexes {
  readonly podsByUid = new Map<string, SlimPod>();
  private readonly podByIp = new Map<string, string>();
  /** Every live pod listing an IP, so a deletion can hand the IP to the next claimant in O(1). */
  private readonly ipClaims = new Map<string, Set<string>>();
  private readonly podByContainer = new Map<string, string>();
  private readonly serviceByIp = new Map<string, SlimService>();
  private readonly nodeByIp = new Map<string, string>();
  private readonly servicesByUid = new Map<string, SlimService>();
  private readonly nodes = new Map<string, SlimNode>();
  private readonly replicaSets = new Map<string, SlimOwner>();
  private readonly jobs = new Map<string, SlimOwner>();
  /** Identity objects are built once per pod version and shared by every span naming it. */
  private readonly identityCache = new Map<string, PodIdentity>();

  // ---- pods
  upsertPod(p: SlimPod): void {
    const uid = p.metadata.uid;
    const old = this.podsByUid.get(uid);
    if (old) this.unindexPod(old);
    this.podsByUid.set(uid, p);
    this.identityCache.delete(uid);
    // Host-network pods share the node's IP: that IP names the node, not one of its pods.
    if (!p.hostNetwork && !p.terminal) {
      for (const ip of p.ips) {
        let set = this.ipClaims.get(ip);
        if (!set) this.ipClaims.set(ip, (set = new Set()));
        set.add(uid);
        this.electIpOwner(ip);
      }
    }
    for (const c of p.containerIds) this.podByContainer.set(c, uid);
  }

  deletePod(p: SlimPod): void {
    const cur = this.podsByUid.get(p.metadata.uid);
    if (!cur) return;
    this.podsByUid.delete(p.metadata.uid);
    this.unindexPod(cur);
    this.identityCache.delete(p.metadata.uid);
  }

  private unindexPod(old: SlimPod): void {
    const uid = old.metadata.uid;
    for (const ip of old.ips) {
      const set = this.ipClaims.get(ip);
      if (!set?.delete(uid)) continue;
      if (set.size === 0) this.ipClaims.delete(ip);
      if (this.podByIp.get(ip) === uid) { this.podByIp.delete(ip); this.electIpOwner(ip); }
    }
    for (const c of old.containerIds) if (this.podByContainer.get(c) === uid) this.podByContainer.delete(c);
  }

  /** Among the pods claiming `ip` (usually one; two while a replacement overlaps), the best owns it. */
  private electIpOwner(ip: string): void {
    let best: SlimPod | undefined;
    for (const u of this.ipClaims.get(ip) ?? []) {
      const p = this.podsByUid.get(u);
      if (p && (!best || outranks(p, best))) best = p;
    }
    if (best) this.podByIp.set(ip, best.metadata.uid); else this.podByIp.delete(ip);
  }

  podByUid(uid: string): SlimPod | undefined { return this.podsByUid.get(uid); }
  podForIp(ip: string): SlimPod | undefined { const u = this.podByIp.get(ip); return u ? this.podsByUid.get(u) : undefined; }
  podForContainer(id: string): SlimPod | undefined {
    const u = this.podByContainer.get(stripPrefix(id));
    return u ? this.podsByUid.get(u) : undefined;
  }

  // ---- owners
  upsertReplicaSet(o: SlimOwner): void { this.replicaSets.set(nsKey(o.metadata.namespace, o.metadata.name), o); this.identityCache.clear(); }
  deleteReplicaSet(o: SlimOwner): void { this.replicaSets.delete(nsKey(o.metadata.namespace, o.metadata.name)); }
  upsertJob(o: SlimOwner): void { this.jobs.set(nsKey(o.metadata.namespace, o.metadata.name), o); this.identityCache.clear(); }
  deleteJob(o: SlimOwner): void { this.jobs.delete(nsKey(o.metadata.namespace, o.metadata.name)); }

  // ---- services and nodes
  upsertService(s: SlimService): void {
    const old = this.servicesByUid.get(s.metadata.uid);
    if (old) this.deleteService(old);
    this.servicesByUid.set(s.metadata.uid, s);
    for (const ip of s.clusterIPs) this.serviceByIp.set(ip, s);
  }
  deleteService(s: SlimService): void {
    const cur = this.servicesByUid.get(s.metadata.uid) ?? s;
    this.servicesByUid.delete(s.metadata.uid);
    for (const ip of cur.clusterIPs) if (this.serviceByIp.get(ip)?.metadata.uid === s.metadata.uid) this.serviceByIp.delete(ip);
  }
  serviceForIp(ip: string): SlimService | undefined { return this.serviceByIp.get(ip); }

  upsertNode(n: SlimNode): void {
    const old = this.nodes.get(n.metadata.name);
    if (old) this.deleteNode(old);
    this.nodes.set(n.metadata.name, n);
    for (const ip of n.addresses) this.nodeByIp.set(ip, n.metadata.name);
  }
  deleteNode(n: SlimNode): void {
    const cur = this.nodes.get(n.metadata.name) ?? n;
    this.nodes.delete(n.metadata.name);
    for (const ip of cur.addresses) if (this.nodeByIp.get(ip) === n.metadata.name) this.nodeByIp.delete(ip);
  }
  nodeForIp(ip: string): string | undefined { return this.nodeByIp.get(ip); }

  /** The pod's Kubernetes identity, owners resolved (ReplicaSet → Deployment, Job → CronJob). */
  identity(p: SlimPod): PodIdentity {
    const cached = this.identityCache.get(p.metadata.uid);
    if (cached) return cached;
    const m = p.metadata;
    const id: PodIdentity = { 'k8s.pod.name': m.name, 'k8s.pod.uid': m.uid };
    if (m.namespace) id['k8s.namespace.name'] = m.namespace;
    if (p.nodeName) id['k8s.node.name'] = p.nodeName;
    const o = m.owner;
    if (o?.kind === 'ReplicaSet') {
      id['k8s.replicaset.name'] = o.name;
      const rs = this.replicaSets.get(nsKey(m.namespace, o.name));
      if (rs?.metadata.owner?.kind === 'Deployment') id['k8s.deployment.name'] = rs.metadata.owner.name;
    } else if (o?.kind === 'StatefulSet') id['k8s.statefulset.name'] = o.name;
    else if (o?.kind === 'DaemonSet') id['k8s.daemonset.name'] = o.name;
    else if (o?.kind === 'Job') {
      id['k8s.job.name'] = o.name;
      const job = this.jobs.get(nsKey(m.namespace, o.name));
      if (job?.metadata.owner?.kind === 'CronJob') id['k8s.cronjob.name'] = job.metadata.owner.name;
    }
    this.identityCache.set(m.uid, id);
    return id;
  }

  sizes(): Record<string, number> {
    return {
      pods: this.podsByUid.size, pod_ips: this.podByIp.size, containers: this.podByContainer.size,
      services: this.servicesByUid.size, nodes: this.nodes.size, replicasets: this.replicaSets.size, jobs: this.jobs.size,
    };
  }

  clear(kind: 'pods' | 'replicasets' | 'jobs' | 'services' | 'nodes'): void {
    if (kind === 'pods') { this.podsByUid.clear(); this.podByIp.clear(); this.ipClaims.clear(); this.podByContainer.clear(); this.identityCache.clear(); }
    else if (kind === 'replicasets') this.replicaSets.clear();
    else if (kind === 'jobs') this.jobs.clear();
    else if (kind === 'services') { this.serviceByIp.clear(); this.servicesByUid.clear(); }
    else { this.nodeByIp.clear(); this.nodes.clear(); }
  }
}

const stripPrefix = (id: string) => { const i = id.indexOf('://'); return i >= 0 ? id.slice(i + 3) : id; };
