// Config fields shared by every processor that reads the Kubernetes cache (k8s_attributes, nat):
// how to reach the API server and what to watch. Processors with equal settings share one cache.
import { bool, duration, int, object, oneOf, optional, str, type Infer } from '../../common/config/config-schema.js';
import type { K8sCacheOptions, ResourceKind } from './k8s-cache.js';
import type { Logger } from '../component/logger.js';

export const k8sConnectionFields = {
  /** auto: in-cluster service account when KUBERNETES_SERVICE_HOST is set, else KUBECONFIG / ~/.kube/config. */
  auth_type: oneOf(['auto', 'serviceAccount', 'kubeConfig'] as const, 'auto'),
  /** A kubeconfig file (implies kubeConfig auth); default: $KUBECONFIG or ~/.kube/config. */
  kubeconfig: optional(str(undefined, { nonEmpty: true })),
  /** Full relist this often, healing anything a watch missed; 0 turns it off. */
  resync_period: duration(10 * 60_000),
  /** How long start-up waits for the first full list before serving spans with what it has. */
  wait_for_sync: duration(10_000),
  /** Objects per list page (keeps list responses small in big clusters). */
  page_size: int(500, { min: 1, max: 10_000 }),
  /** Owner kinds and peers to watch; each off switch saves its memory and RBAC. */
  watch: object({
    replicasets: bool(true),
    jobs: bool(true),
    services: bool(true),
    nodes: bool(true),
  }),
};

export const k8sConnection = object(k8sConnectionFields, (c, fail) => {
  if (c.auth_type === 'serviceAccount' && c.kubeconfig) fail('kubeconfig', 'cannot be used with auth_type "serviceAccount"');
});
export type K8sConnectionConfig = Infer<typeof k8sConnection>;

export function cacheOptions(c: K8sConnectionConfig, logger: Logger): K8sCacheOptions {
  const kinds = (Object.entries(c.watch) as [ResourceKind, boolean][]).filter(([, on]) => on).map(([k]) => k);
  const o: K8sCacheOptions = {
    authType: c.kubeconfig ? 'kubeConfig' : c.auth_type, resyncMs: c.resync_period, kinds, pageSize: c.page_size, logger,
  };
  if (c.kubeconfig) o.kubeconfigPath = c.kubeconfig;
  return o;
}
