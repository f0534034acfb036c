// Stands in for the Kubernetes API server in tests (no real one can run here). It speaks the real
// REST protocol the client uses: paged lists (limit/continue) with a list resourceVersion, and
// `?watch=true&resourceVersion=N` streams of newline-delimited ADDED/MODIFIED/DELETED/BOOKMARK
// events; a watch from a compacted resourceVersion gets an ERROR event carrying a 410 Gone Status,
// as etcd compaction produces. The test drives changes, compaction, and outages (stop/start).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; uid: string; [k: string]: unknown }; [k: string]: unknown };
interface Ev { rv: number; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Obj }

/** Collection path → the list kind and the apiVersion the real server reports. */
const RESOURCES: Record<string, { listKind: string; apiVersion: string }> = {
  '/api/v1/pods': { listKind: 'PodList', apiVersion: 'v1' },
  '/api/v1/services': { listKind: 'ServiceList', apiVersion: 'v1' },
  '/api/v1/nodes': { listKind: 'NodeList', apiVersion: 'v1' },
  '/apis/apps/v1/replicasets': { listKind: 'ReplicaSetList', apiVersion: 'apps/v1' },
  '/apis/batch/v1/jobs': { listKind: 'JobList', apiVersion: 'batch/v1' },
};

export class K8sApiTestServer {
  private rv = 100;
  private readonly objects = new Map<string, Map<string, Obj>>();
  private readonly log = new Map<string, Ev[]>();
  private compactedBelow = 0;
  private readonly watchers = new Set<{ path: string; res: http.ServerResponse; rv: number }>();
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** Requests seen, by "list <path>" / "watch <path>" / "gone <path>". */
  readonly requests = new Map<string, number>();

  constructor() { for (const p of Object.keys(RESOURCES)) { this.objects.set(p, new Map()); this.log.set(p, []); } }

  async start(port = 0): Promise<void> {
    const srv = http.createServer((req, res) => this.handle(req, res));
    srv.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    this.server = srv;
    this.port = (srv.address() as AddressInfo).port;
  }

  /** An outage: the listener closes and every open watch connection is cut. */
  async stop(): Promise<void> {
    const srv = this.server;
    this.server = undefined;
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  }

  /** A kubeconfig that points @kubernetes/client-node at this server. */
  writeKubeconfig(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sockeye-k8s-'));
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: test',
      'clusters:', `- name: test`, `  cluster:`, `    server: http://127.0.0.1:${this.port}`,
      // The client refuses plain HTTP unless TLS verification is declared off; loopback only.
      '    insecure-skip-tls-verify: true',
      'users:', '- name: test', '  user:', '    token: test-token',
      'contexts:', '- name: test', '  context:', '    cluster: test', '    user: test',
    ].join('\n') + '\n');
    return file;
  }

  count(what: string): number { return this.requests.get(what) ?? 0; }

  add(path: string, o: Obj): void { this.change(path, 'ADDED', o); }
  update(path: string, o: Obj): void { this.change(path, 'MODIFIED', o); }
  remove(path: string, name: string, namespace?: string): void {
    const o = this.objects.get(path)!.get(`${namespace ?? ''}/${name}`);
    if (o) this.change(path, 'DELETED', o);
  }

  /** Deletes without telling watchers: a missed event, which only a relist (resync) can heal. */
  removeSilently(path: string, name: string, namespace?: string): void {
    this.objects.get(path)!.delete(`${namespace ?? ''}/${name}`);
    this.rv++;
  }

  /** Forgets history up to now (etcd compaction): watches from older versions get 410 Gone. */
  compact(): void { this.compactedBelow = this.rv + 1; for (const l of this.log.values()) l.length = 0; }

  /** Ends every watch stream (as the server does at its watch timeout); clients re-watch. */
  endWatches(): void { for (const w of this.watchers) w.res.end(); this.watchers.clear(); }

  private change(path: string, type: Ev['type'], o: Obj): void {
    const rv = ++this.rv;
    const obj: Obj = { ...o, metadata: { ...o.metadata, resourceVersion: String(rv) } };
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    if (type === 'DELETED') this.objects.get(path)!.delete(key); else this.objects.get(path)!.set(key, obj);
    const ev: Ev = { rv, type, object: obj };
    this.log.get(path)!.push(ev);
    for (const w of this.watchers) if (w.path === path) this.send(w, ev);
  }

  private send(w: { res: http.ServerResponse; rv: number }, ev: Ev): void {
    if (ev.rv <= w.rv) return;
    w.rv = ev.rv;
    w.res.write(JSON.stringify({ type: ev.type, object: ev.object }) + '\n');
  }

  private bump(what: string): void { this.requests.set(what, this.count(what) + 1); }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const meta = RESOURCES[u.pathname];
    if (req.headers.authorization !== 'Bearer test-token') return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    if (!meta || req.method !== 'GET') return this.status(res, 404, 'NotFound', `the server could not find the requested resource ${u.pathname}`);
    const path = u.pathname;
    if (u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1') {
      this.bump(`watch ${path}`);
      const from = Number(u.searchParams.get('resourceVersion') || this.rv);
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders(); // the real server answers a watch at once, before any event
      if (from < this.compactedBelow - 1) {
        this.bump(`gone ${path}`);
        res.end(JSON.stringify({ type: 'ERROR', object: {
          kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
          message: `too old resource version: ${from} (${this.compactedBelow})`, reason: 'Expired', code: 410,
        } }) + '\n');
        return;
      }
      const w = { path, res, rv: from };
      this.watchers.add(w);
      for (const ev of this.log.get(path)!) this.send(w, ev);
      if (u.searchParams.get('allowWatchBookmarks') === 'true') {
        res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: meta.listKind.replace(/List$/, ''), apiVersion: meta.apiVersion, metadata: { resourceVersion: String(this.rv) } } }) + '\n');
      }
      res.on('close', () => this.watchers.delete(w));
      return;
    }
    this.bump(`list ${path}`);
    const all = [...this.objects.get(path)!.values()].sort((a, b) => (a.metadata.uid < b.metadata.uid ? -1 : 1));
    const limit = Number(u.searchParams.get('limit') || 0) || all.length;
    const cont = u.searchParams.get('continue');
    const [start, listRv] = cont ? JSON.parse(Buffer.from(cont, 'base64').toString()) as [number, number] : [0, this.rv];
    const items = all.slice(start, start + limit);
    const next = start + limit < all.length ? Buffer.from(JSON.stringify([start + limit, listRv])).toString('base64') : undefined;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      kind: meta.listKind, apiVersion: meta.apiVersion,
      metadata: { resourceVersion: String(listRv), ...(next ? { continue: next } : {}) },
      items,
    }));
  }

  private status(res: http.ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  }
}

export const PATHS = {
  pods: '/api/v1/pods', services: '/api/v1/services', nodes: '/api/v1/nodes',
  replicasets: '/apis/apps/v1/replicasets', jobs: '/apis/batch/v1/jobs',
} as const;
