// processor `memory_limiter`: measures the collector's memory every check_interval and, while it is
// above the soft limit (limit - spike), refuses new data with a retryable error so senders back off
// and retry (OTLP: UNAVAILABLE / HTTP 503) instead of the process growing until it is OOM-killed.
// Above the hard limit it also asks V8 for a collection when --expose-gc allows it.
// Memory measured: V8 heap used + external (ArrayBuffers); RSS rarely shrinks after a spike and
// would keep refusing long after the data was gone. Percentages are of the container's memory
// limit when there is one (memory-base.ts), else of the host's memory.
import { object, int, duration } from '../../../common/config/config-schema.js';
import { consumeFn, consumerOf, retryableError, type Signal } from '../../component/consumer.js';
import type { ProcessorFactory } from '../../component/factory.js';
import type { Infer } from '../../../common/config/config-schema.js';
import { countItems } from '../../pdata/split.js';
import { memoryBase, type MemoryBase, type CgroupPaths } from './memory-base.js';

const MIB = 1024 * 1024;

const config = object({
  check_interval: duration(1000, { min: 1 }),
  limit_mib: int(0, { min: 0 }),
  spike_limit_mib: int(0, { min: 0 }),
  limit_percentage: int(0, { min: 0, max: 100 }),
  spike_limit_percentage: int(0, { min: 0, max: 100 }),
}, (c, fail) => {
  // With neither limit given: 80% of the container's (or host's) memory, refusing above 60% (spike 20%).
  if (c.limit_mib === 0 && c.limit_percentage === 0) {
    if (c.spike_limit_mib > 0) fail('spike_limit_mib', 'needs limit_mib to be set too');
    c.limit_percentage = 80;
    if (c.spike_limit_percentage === 0) c.spike_limit_percentage = 20;
  }
  if (c.limit_mib > 0 && c.limit_percentage > 0) fail('limit_percentage', 'set limit_mib or limit_percentage, not both');
  if (c.limit_mib > 0 && c.spike_limit_mib >= c.limit_mib) {
    fail('spike_limit_mib', `must be less than limit_mib (${c.limit_mib}), got ${c.spike_limit_mib}`);
  }
  if (c.limit_percentage > 0 && c.spike_limit_percentage >= c.limit_percentage) {
    fail('spike_limit_percentage', `must be less than limit_percentage (${c.limit_percentage}), got ${c.spike_limit_percentage}`);
  }
});
export type MemoryLimiterConfig = Infer<typeof config>;

/**
 * Hard and soft limits in bytes; spike defaults to 20% of the limit, as in the OTel Collector.
 * `total` is what the percentages are of: the container's memory limit, else the host's memory.
 */
export function memoryLimits(c: MemoryLimiterConfig, total = memoryBase().bytes): { hard: number; soft: number } {
  const hard = c.limit_mib > 0 ? c.limit_mib * MIB : Math.floor((total * c.limit_percentage) / 100);
  const spike = c.limit_mib > 0
    ? (c.spike_limit_mib > 0 ? c.spike_limit_mib * MIB : Math.floor(hard / 5))
    : (c.spike_limit_percentage > 0 ? Math.floor((total * c.spike_limit_percentage) / 100) : Math.floor(hard / 5));
  return { hard, soft: hard - spike };
}

/** Where the limits came from, for the start-up log. */
export function describeBase(c: MemoryLimiterConfig, base: MemoryBase): string {
  if (c.limit_mib > 0) return `from limit_mib (${base.description} not used)`;
  return `limit_percentage ${c.limit_percentage}% of the ${base.description}`;
}

export function measuredMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** The factory; `cgroup` moves where the container's memory limit is read from (tests). */
export const memoryLimiterFactoryWith = (cgroup: CgroupPaths = {}): ProcessorFactory<MemoryLimiterConfig> => ({
  type: 'memory_limiter',
  kind: 'processor',
  signals: ['traces', 'metrics', 'logs'],
  mutatesData: false,
  config,
  create(s, cfg, signal: Signal, next) {
    const base = memoryBase(cgroup);
    const { hard, soft } = memoryLimits(cfg, base.bytes);
    const send = consumeFn(next, signal)!;
    const id = s.id.toString();
    const refused = s.telemetry.counter('processor_refused_items', 'Items a processor refused (the sender may retry).');
    let over = false;
    let timer: NodeJS.Timeout | undefined;
    const gc = (globalThis as { gc?: () => void }).gc;
    const check = () => {
      let used = measuredMemory();
      if (used > hard && gc) { gc(); used = measuredMemory(); }
      const was = over;
      over = used > soft;
      if (over !== was) {
        const mib = (used / MIB).toFixed(1);
        if (over) s.logger.warn(`memory ${mib} MiB is above the soft limit ${(soft / MIB).toFixed(1)} MiB: refusing data`);
        else s.logger.info(`memory ${mib} MiB is back below the soft limit: accepting data`);
      }
    };
    const consumer = consumerOf(signal, async (d) => {
      if (over) {
        refused.add(countItems(signal, d), { processor: id, reason: 'memory_limit' });
        throw retryableError(`data refused: memory usage is above the soft limit of ${(soft / MIB).toFixed(0)} MiB`, cfg.check_interval);
      }
      return send(d);
    });
    return Object.assign(consumer, {
      async start() {
        s.logger.info(`soft limit ${(soft / MIB).toFixed(0)} MiB, hard limit ${(hard / MIB).toFixed(0)} MiB: ${describeBase(cfg, base)}`);
        check();
        timer = setInterval(check, cfg.check_interval);
        timer.unref();
      },
      async shutdown() { if (timer) clearInterval(timer); },
    });
  },
});

export const memoryLimiterProcessorFactory = memoryLimiterFactoryWith();
