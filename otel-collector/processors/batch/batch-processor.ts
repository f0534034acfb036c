// processor `batch`: groups incoming data into batches of send_batch_size items (spans, data
// points, log records), sending when full or after `timeout`, never more than send_batch_max_size
// per send. Accepts data at once (the sender is not held up by export); when a send is still in
// flight as the next batch fills, the caller waits — that is the backpressure that bounds memory.
import { object, int, duration } from '../../../common/config/config-schema.js';
import { consumeFn, consumerOf, type AnyConsumer, type Signal, type SignalData } from '../../component/consumer.js';
import type { ProcessorFactory, Component, CreateSettings } from '../../component/factory.js';
import type { Infer } from '../../../common/config/config-schema.js';
import { countItems, emptyData, appendData, splitData } from '../../pdata/split.js';

const config = object({
  send_batch_size: int(8192, { min: 1 }),
  send_batch_max_size: int(0, { min: 0 }),
  timeout: duration(200, { min: 1 }),
}, (c, fail) => {
  if (c.send_batch_max_size !== 0 && c.send_batch_max_size < c.send_batch_size) {
    fail('send_batch_max_size', `must be 0 (no limit) or >= send_batch_size (${c.send_batch_size}), got ${c.send_batch_max_size}`);
  }
});
export type BatchConfig = Infer<typeof config>;

class BatchProcessor<S extends Signal> implements Component {
  private pending: SignalData[S];
  private pendingItems = 0;
  private timer?: NodeJS.Timeout;
  private inflight: Promise<void> = Promise.resolve();
  private readonly send: (d: SignalData[S]) => Promise<void>;
  readonly consumer: AnyConsumer;

  constructor(private readonly s: CreateSettings, private readonly cfg: BatchConfig, private readonly signal: S, next: AnyConsumer) {
    this.pending = emptyData(signal);
    this.send = consumeFn(next, signal)!;
    this.consumer = consumerOf(signal, (d) => this.add(d));
  }

  private async add(d: SignalData[S]): Promise<void> {
    const n = countItems(this.signal, d);
    if (n === 0) return;
    appendData(this.signal, this.pending, d);
    this.pendingItems += n;
    if (this.pendingItems >= this.cfg.send_batch_size) {
      const wait = this.inflight;
      this.flush();
      await wait; // backpressure: at most one send in flight plus one batch filling
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.cfg.timeout);
    }
  }

  private flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.pendingItems === 0) return;
    const data = this.pending;
    const items = this.pendingItems;
    this.pending = emptyData(this.signal);
    this.pendingItems = 0;
    const max = this.cfg.send_batch_max_size;
    const chunks = max > 0 && items > max ? splitData(this.signal, data, max) : [data];
    const prev = this.inflight;
    this.inflight = prev.then(async () => {
      for (const chunk of chunks) {
        const k = countItems(this.signal, chunk);
        try {
          await this.send(chunk);
          this.s.telemetry.counter('processor_batch_sent_items', 'Items the batch processor passed on.').add(k, { processor: this.s.id.toString() });
        } catch (e) {
          // Asynchronous after accepting: the loss is counted and logged, never silent.
          this.s.telemetry.counter('processor_batch_dropped_items', 'Items the next stage refused after batching.').add(k, { processor: this.s.id.toString() });
          this.s.logger.warn(`next stage refused a batch of ${k} ${this.signal} items: ${(e as Error).message}`);
        }
      }
    });
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {
    this.flush();
    await this.inflight;
  }
}

export const batchProcessorFactory: ProcessorFactory<BatchConfig> = {
  type: 'batch',
  kind: 'processor',
  signals: ['traces', 'metrics', 'logs'],
  mutatesData: false,
  config,
  create(s, cfg, signal, next) {
    const p = new BatchProcessor(s, cfg, signal, next);
    return Object.assign(p.consumer, { start: () => p.start(), shutdown: () => p.shutdown() });
  },
};
