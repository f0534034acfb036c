// The collector's Kubernetes metadata cache: one informer (list + watch via @kubernetes/client-node)
// per resource kind that enrichment needs, objects slimmed on arrival, indexes kept current from
// the informers' callbacks. The client's ListWatch relists on 410 Gone by itself; on any other
// failure (API server down) it stops, so we restart it with backoff while lookups keep answering
// from the last known state. A periodic resync relists everything and drops what we missed.
// Processors in one collector share one cache per connection settings (acquireK8sCache).
import {
  KubeConfig, Watch, ListWatch, CoreV1Api, AppsV1Api, BatchV1Api, type KubernetesObject, type KubernetesListObject,
} from '@kubernetes/client-node';
import { K8sIndexes } from './k8s-indexes.js';
import { slimNode, slimOwner, slimPod, slimService } from './k8s-objects.js';
import type { Logger } from '../component/logger.js';

export type ResourceKind = 'pods' | 'replicasets' | 'jobs' | 'services' | 'nodes';

export interface K8sCacheOptions {
  /** serviceAccount: in-cluster token and CA; kubeConfig: the file (or $KUBECONFIG / ~/.kube/config); auto: in-cluster when KUBERNETES_SERVICE_HOST is set. */
  authType: 'auto' | 'serviceAccount' | 'kubeConfig';
  kubeconfigPath?: string;
  /** 0 disables. */
  resyncMs: number;
  /** Which kinds to watch besides pods. */
  kinds: ResourceKind[];
  /** Objects per list page. */
  pageSize: number;
  logger: Logger;
}

export interface K8sCacheStats {
  listErrors: number;
  watchRestarts: number;
  relists: number;
  synced: boolean;
  /** True while some informer cannot reach the API server. */
  degraded: boolean;
}

type Slim = KubernetesObject & { metadata: { name: string; namespace?: string; resourceVersion?: string; uid: string } };
type Lister = (p: { limit: number; _continue?: string }) => Promise<KubernetesListObject<KubernetesObject>>;

interface KindSpec {
  path: string;
  list: Lister;
  slim: (o: Record<string, unknown>) => unknown;
  upsert: (o: never) => void;
  remove: (o: never) => void;
}

const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;

export function loadKubeConfig(o: Pick<K8sCacheOptions, 'authType' | 'kubeconfigPath'>): KubeConfig {
  const kc = new KubeConfig();
  const inCluster = o.authType === 'serviceAccount' || (o.authType === 'auto' && !!process.env.KUBERNETES_SERVICE_HOST && !o.kubeconfigPath);
  if (inCluster) kc.loadFromCluster();
  else if (o.kubeconfigPath) kc.loadFromFile(o.kubeconfigPath);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster in the configuration (set KUBECONFIG or run in a pod with a service account)');
  return kc;
}

export class K8sCache {
  readonly indexes = new K8sIndexes();
  readonly stats: K8sCacheStats = { listErrors: 0, watchRestarts: 0, relists: 0, synced: false, degraded: false };
  private readonly informers = new Map<ResourceKind, ListWatch<Slim>>();
  private readonly restartTimers = new Map<ResourceKind, NodeJS.Timeout>();
  private readonly backoff = new Map<ResourceKind, number>();
  private readonly failing = new Set<ResourceKind>();
  private readonly specs: Record<ResourceKind, KindSpec>;
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly kc: KubeConfig, private readonly opts: K8sCacheOptions) {
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const batch = kc.makeApiClient(BatchV1Api);
    const ix = this.indexes;
    this.specs = {
      pods: { path: '/api/v1/pods', list: (p) => core.listPodForAllNamespaces(p), slim: slimPod, upsert: (o) => ix.upsertPod(o), remove: (o) => ix.deletePod(o) },
      replicasets: { path: '/apis/apps/v1/replicasets', list: (p) => apps.listReplicaSetForAllNamespaces(p), slim: slimOwner, upsert: (o) => ix.upsertReplicaSet(o), remove: (o) => ix.deleteReplicaSet(o) },
      jobs: { path: '/apis/batch/v1/jobs', list: (p) => batch.listJobForAllNamespaces(p), slim: slimOwner, upsert: (o) => ix.upsertJob(o), remove: (o) => ix.deleteJob(o) },
      services: { path: '/api/v1/services', list: (p) => core.listServiceForAllNamespaces(p), slim: slimService, upsert: (o) => ix.upsertService(o), remove: (o) => ix.deleteService(o) },
      nodes: { path: '/api/v1/nodes', list: (p) => core.listNode(p), slim: slimNode, upsert: (o) => ix.upsertNode(o), remove: (o) => ix.deleteNode(o) },
    } as Record<ResourceKind, KindSpec>;
  }

  /** Starts every informer; resolves when all finished their first list, or after `waitMs` (then keeps trying). */
  async start(waitMs: number): Promise<void> {
    const kinds: ResourceKind[] = ['pods', ...this.opts.kinds.filter((k) => k !== 'pods')];
    const firstLists = kinds.map((k) => this.startKind(k));
    const all = Promise.all(firstLists).then(() => { this.stats.synced = true; });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => { timer = setTimeout(r, waitMs); })]);
    clearTimeout(timer);
    if (!this.stats.synced) this.opts.logger.warn(`Kubernetes metadata not synced after ${waitMs}ms; enriching with what is known and retrying`);
    if (this.opts.resyncMs > 0) {
      this.resyncTimer = setInterval(() => { void this.resync(); }, this.opts.resyncMs);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const t of this.restartTimers.values()) clearTimeout(t);
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  /** Relists every kind and makes the indexes match (drops objects whose DELETE we missed). */
  async resync(): Promise<void> {
    for (const [kind, inf] of this.informers) {
      if (this.failing.has(kind)) continue;
      try {
        const list = await this.listAll(kind);
        const spec = this.specs[kind];
        this.indexes.clear(kind);
        for (const o of list.items) spec.upsert(o as never);
        // Watch events that arrived while the list was read are newer than its snapshot: keep them.
        // (resourceVersions are opaque by contract; etcd's are integers, anything else is skipped.)
        const snapshot = Number(list.metadata?.resourceVersion);
        if (Number.isFinite(snapshot)) {
          for (const o of inf.list()) if (Number(o.metadata.resourceVersion) > snapshot) spec.upsert(o as never);
        }
      } catch (e) {
        this.stats.listErrors++;
        this.opts.logger.warn(`resync of ${kind} failed: ${(e as Error).message}`);
      }
    }
  }

  private startKind(kind: ResourceKind): Promise<void> {
    const spec = this.specs[kind];
    // Slim every watch event before the informer stores it or calls us.
    const inner = new Watch(this.kc);
    const slimWatch = {
      watch: async (path: string, q: Record<string, string | number | boolean | undefined>, cb: (phase: string, obj: unknown, w?: unknown) => void, done: (err: unknown) => void) => {
        let failed = false;
        const ctl = await inner.watch(path, q, (phase, obj, w) => cb(phase, phase === 'ERROR' ? obj : spec.slim(obj), w), (err) => {
          if (err) failed = true;
          done(err);
        });
        // The watch stream opened (HTTP 200): the API server is back.
        if (!failed) this.recovered(kind);
        return ctl;
      },
    } as unknown as Watch;
    let resolveFirst!: () => void;
    const first = new Promise<void>((r) => { resolveFirst = r; });
    const listFn = async () => {
      const l = await this.listAll(kind);
      this.recovered(kind);
      resolveFirst();
      return l;
    };
    const inf = new ListWatch<Slim>(spec.path, slimWatch, listFn, false);
    inf.on('add', (o) => spec.upsert(o as never));
    inf.on('update', (o) => spec.upsert(o as never));
    inf.on('delete', (o) => spec.remove(o as never));
    inf.on('error', (err) => this.onInformerError(kind, inf, err));
    this.informers.set(kind, inf);
    void inf.start().catch((err) => this.onInformerError(kind, inf, err));
    return first;
  }

  private recovered(kind: ResourceKind): void {
    this.backoff.delete(kind);
    if (this.failing.delete(kind)) {
      this.opts.logger.info(`Kubernetes API reachable again: ${kind} informer reconnected`);
      this.stats.degraded = this.failing.size > 0;
    }
  }

  private onInformerError(kind: ResourceKind, inf: ListWatch<Slim>, err: unknown): void {
    if (this.stopped) return;
    this.stats.listErrors++;
    if (!this.failing.has(kind)) {
      this.failing.add(kind);
      this.stats.degraded = true;
      this.opts.logger.warn(`Kubernetes API unreachable for ${kind} (${describe(err)}); enriching from the cached state until it returns`);
    }
    if (this.restartTimers.has(kind)) return; // one pending restart per kind
    const delay = Math.min(RESTART_MAX_MS, (this.backoff.get(kind) ?? RESTART_MIN_MS / 2) * 2);
    this.backoff.set(kind, delay);
    this.restartTimers.set(kind, setTimeout(() => {
      this.restartTimers.delete(kind);
      if (this.stopped) return;
      this.stats.watchRestarts++;
      // start() re-watches from the last resourceVersion; a 410 there makes the client relist.
      void inf.start().catch((e) => this.onInformerError(kind, inf, e));
    }, delay));
    this.restartTimers.get(kind)!.unref();
  }

  private async listAll(kind: ResourceKind): Promise<KubernetesListObject<Slim>> {
    const spec = this.specs[kind];
    const items: Slim[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await spec.list({ limit: this.opts.pageSize, ...(cont ? { _continue: cont } : {}) });
      for (const o of page.items) items.push(spec.slim(o as unknown as Record<string, unknown>) as Slim);
      cont = page.metadata?._continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont);
    this.stats.relists++;
    return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: rv }, items };
  }
}

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string | number; statusCode?: number; cause?: { code?: string } };
  return [e?.statusCode && `HTTP ${e.statusCode}`, e?.cause?.code ?? e?.code, e?.message].filter(Boolean).join(': ') || String(err);
}

// ---- sharing: processors in one collector process use one cache per connection settings.
const shared = new Map<string, { cache: K8sCache; refs: number; started: Promise<void> }>();

export async function acquireK8sCache(opts: K8sCacheOptions, waitMs: number): Promise<K8sCache> {
  const key = JSON.stringify({ a: opts.authType, k: opts.kubeconfigPath, r: opts.resyncMs, kinds: [...opts.kinds].sort(), p: opts.pageSize });
  let e = shared.get(key);
  if (!e) {
    const cache = new K8sCache(loadKubeConfig(opts), opts);
    e = { cache, refs: 0, started: cache.start(waitMs) };
    shared.set(key, e);
  }
  e.refs++;
  await e.started;
  return e.cache;
}

export async function releaseK8sCache(cache: K8sCache): Promise<void> {
  for (const [k, e] of shared) {
    if (e.cache !== cache) continue;
    if (--e.refs <= 0) { shared.delete(k); await cache.stop(); }
    return;
  }
}
