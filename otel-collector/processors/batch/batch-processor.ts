// processor `batch`: groups incoming data into batches of send_batch_size items (spans, data
// points, log records), sending when full or after `timeout`, never more than send_batch_max_size
// per send. A caller waits until the batch holding its data has been passed on, and gets the next
// stage's refusal if it refused that batch (retryable or not, as the next stage said): a sender is
// never told "accepted" for data that is then dropped, so it can retry — that, and at most one send
// in flight plus one batch filling, is the backpressure. A batch refused after splitting
// (send_batch_max_size) fails for every caller in it, so a retry may repeat the chunks that went on.
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

/** The outcome of one batch, awaited by every caller whose data is in it. */
class BatchOutcome {
  readonly done: Promise<void>;
  settle!: (e?: unknown) => void;
  constructor() {
    this.done = new Promise<void>((res, rej) => { this.settle = (e) => (e === undefined ? res() : rej(e)); });
    this.done.catch(() => undefined); // a batch nobody waits for any more must not be an unhandled rejection
  }
}

class BatchProcessor<S extends Signal> implements Component {
  private pending: SignalData[S];
  private pendingItems = 0;
  private outcome = new BatchOutcome();
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
    const mine = this.outcome.done;
    if (this.pendingItems >= this.cfg.send_batch_size) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.cfg.timeout);
    await mine; // resolves when the batch went on, rejects with the next stage's refusal
  }

  private flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.pendingItems === 0) return;
    const data = this.pending;
    const items = this.pendingItems;
    const outcome = this.outcome;
    this.pending = emptyData(this.signal);
    this.pendingItems = 0;
    this.outcome = new BatchOutcome();
    const max = this.cfg.send_batch_max_size;
    const chunks = max > 0 && items > max ? splitData(this.signal, data, max) : [data];
    const prev = this.inflight;
    this.inflight = prev.then(async () => {
      let refusal: unknown;
      for (const chunk of chunks) {
        const k = countItems(this.signal, chunk);
        try {
          await this.send(chunk);
          this.s.telemetry.counter('processor_batch_sent_items', 'Items the batch processor passed on.').add(k, { processor: this.s.id.toString() });
        } catch (e) {
          // Counted here; the callers waiting for this batch get the refusal (and may retry).
          this.s.telemetry.counter('processor_batch_dropped_items', 'Items the next stage refused after batching (their senders were told).').add(k, { processor: this.s.id.toString() });
          this.s.logger.warn(`next stage refused a batch of ${k} ${this.signal} items: ${(e as Error).message}`);
          refusal ??= e;
        }
      }
      outcome.settle(refusal);
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
