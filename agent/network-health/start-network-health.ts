// Starting network health from the agent's config: on by default, and when the kernel cannot run
// it (no BTF, no tp_btf, not permitted) the agent says so in one line and runs without it.
import type { AgentConfig } from '../config/agent-config.js';
import type { NetworkHealthOptions } from './network-health.js';
import type { ConnectionResetLookup } from '../signals/connection-reset.js';

export interface NetworkHealthLike {
  renderPrometheus(): string;
  /** Resets per connection, for the spans of transactions they broke. */
  readonly resets?: ConnectionResetLookup;
  stop(): Promise<void>;
}

export async function startNetworkHealth(cfg: AgentConfig, log: (line: string) => void,
  o: Omit<NetworkHealthOptions, 'maxServices' | 'maxPeersPerService' | 'exportIntervalMs' | 'capture'>): Promise<NetworkHealthLike | undefined> {
  if (!cfg.networkHealth.enabled) { log('TCP network health disabled (network_health.enabled: false)'); return undefined; }
  try {
    const { NetworkHealth } = await import('./network-health.js');
    const nh = NetworkHealth.start({ ...o, exportIntervalMs: cfg.export.metricIntervalMs, maxServices: cfg.signals.maxServices,
      maxPeersPerService: cfg.networkHealth.maxPeersPerService, capture: { ownPid: cfg.capture.excludeSelf ? process.pid : undefined } });
    log(`TCP network health on${nh.missing.length ? `, without: ${nh.missing.join('; ')}` : ''}`);
    return nh;
  } catch (e) {
    await o.exporter?.shutdown().catch(() => undefined);
    log(`TCP network health off: this kernel cannot run it (${String((e as Error).message).split('\n')[0]}); running without it`);
    return undefined;
  }
}
