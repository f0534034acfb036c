// Settings every network exporter shares (names as in the OpenTelemetry Collector's exporterhelper).
import { object, bool, int, num, duration } from '../../../common/config/config-schema.js';

export const retryConfig = object({
  enabled: bool(true),
  initial_interval: duration(5000, { min: 1 }),
  max_interval: duration(30_000, { min: 1 }),
  /** Give up (and count the data as dropped) after this long; 0 = retry until shutdown. */
  max_elapsed_time: duration(300_000),
  multiplier: num(1.5, { min: 1 }),
  randomization_factor: num(0.5, { min: 0, max: 1 }),
}, (c, fail) => {
  if (c.max_interval < c.initial_interval) fail('max_interval', `must be >= initial_interval (${c.initial_interval}ms), got ${c.max_interval}ms`);
});

export const queueConfig = object({
  enabled: bool(true),
  num_consumers: int(10, { min: 1 }),
  /** In requests (batches), not items. */
  queue_size: int(1000, { min: 1 }),
});

export const senderFields = {
  timeout: duration(5000, { min: 1 }),
  retry_on_failure: retryConfig,
  sending_queue: queueConfig,
};
