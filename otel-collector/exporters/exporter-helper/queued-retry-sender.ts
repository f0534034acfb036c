// The delivery half of a network exporter: a bounded queue drained by N workers, each send retried
// on retryable failures with exponential backoff and jitter (a server's requested delay is honored),
// until max_elapsed_time. Nothing disappears silently: every item ends up counted as sent, refused
// at the queue (the caller gets a retryable error), or dropped with a reason.
import { retryableError, permanentError } from '../../component/consumer.js';
import type { CreateSettings } from '../../component/factory.js';
import type { Infer } from '../../../common/config/config-schema.js';
import type { retryConfig, queueConfig } from './sender-config.js';

export type SendResult =
  | { ok: true; rejected?: number; message?: string }
  | { ok: false; retryable: boolean; message: string; retryAfterMs?: number };

export interface SenderOptions {
  retry: Infer<typeof retryConfig>;
  queue: Infer<typeof queueConfig>;
  /** Label for counters, e.g. "spans". */
  item: string;
}

interface Job<T> { data: T; items: number }

export function backoffDelay(attempt: number, r: Infer<typeof retryConfig>, random = Math.random): number {
  const base = Math.min(r.max_interval, r.initial_interval * r.multiplier ** attempt);
  const jitter = base * r.randomization_factor;
  return Math.max(0, base - jitter + random() * 2 * jitter);
}

export class QueuedRetrySender<T> {
  private readonly queue: Job<T>[] = [];
  private waiting: (() => void)[] = [];
  private running = 0;
  private stopping = false;
  private readonly aborts = new Set<() => void>();
  private workers: Promise<void>[] = [];
  private readonly labels: Record<string, string>;

  constructor(private readonly s: CreateSettings, private readonly o: SenderOptions, private readonly send: (d: T) => Promise<SendResult>) {
    this.labels = { exporter: s.id.toString(), item: o.item };
    s.telemetry.gauge('exporter_queue_size', 'Requests waiting in an exporter queue.', () => this.queue.length, this.labels);
  }

  private count(name: string, help: string, n: number, extra: Record<string, string> = {}): void {
    this.s.telemetry.counter(name, help).add(n, { ...this.labels, ...extra });
  }

  start(): void {
    if (!this.o.queue.enabled) return;
    for (let i = 0; i < this.o.queue.num_consumers; i++) this.workers.push(this.worker());
  }

  /** Queue (or, without a queue, send now). Throws a ConsumerError when the data was not taken. */
  async consume(data: T, items: number): Promise<void> {
    if (this.stopping) throw retryableError(`exporter ${this.labels.exporter} is shutting down`);
    if (!this.o.queue.enabled) {
      const res = await this.deliver(data, items);
      if (!res.ok) throw res.retryable ? retryableError(res.message) : permanentError(res.message);
      return;
    }
    if (this.queue.length >= this.o.queue.queue_size) {
      this.count('exporter_enqueue_failed_items', 'Items refused because the exporter queue was full.', items);
      throw retryableError(`exporter ${this.labels.exporter}: sending queue is full (${this.o.queue.queue_size} requests)`);
    }
    this.queue.push({ data, items });
    this.waiting.shift()?.();
  }

  private async worker(): Promise<void> {
    for (;;) {
      const job = this.queue.shift();
      if (!job) {
        if (this.stopping) return;
        await new Promise<void>((r) => this.waiting.push(r));
        continue;
      }
      this.running++;
      try {
        await this.deliver(job.data, job.items);
      } finally {
        this.running--;
      }
    }
  }

  private sleep(ms: number): Promise<boolean> {
    return new Promise((res) => {
      const t = setTimeout(() => { this.aborts.delete(abort); res(true); }, ms);
      const abort = () => { clearTimeout(t); res(false); };
      this.aborts.add(abort);
    });
  }

  /** Sends with retries; the outcome is counted here. */
  private async deliver(data: T, items: number): Promise<SendResult> {
    const began = Date.now();
    const r = this.o.retry;
    for (let attempt = 0; ; attempt++) {
      let res: SendResult;
      try {
        res = await this.send(data);
      } catch (e) {
        res = { ok: false, retryable: true, message: (e as Error).message };
      }
      if (res.ok) {
        const rejected = res.rejected ?? 0;
        this.count('exporter_sent_items', 'Items an exporter delivered.', items - rejected);
        if (rejected) {
          this.count('exporter_send_failed_items', 'Items an exporter could not deliver.', rejected, { reason: 'partial_success' });
          this.s.logger.warn(`server rejected ${rejected} of ${items} ${this.o.item}: ${res.message ?? ''}`);
        }
        return res;
      }
      const fail = (reason: string) => {
        this.count('exporter_send_failed_items', 'Items an exporter could not deliver.', items, { reason });
        this.s.logger.warn(`dropped ${items} ${this.o.item} (${reason}): ${res.ok ? '' : res.message}`);
        return res;
      };
      if (!res.retryable) return fail('permanent_error');
      if (!r.enabled) return fail('retry_disabled');
      if (this.stopping) return fail('shutdown');
      const delay = Math.max(backoffDelay(attempt, r), res.retryAfterMs ?? 0);
      if (r.max_elapsed_time > 0 && Date.now() - began + delay > r.max_elapsed_time) return fail('retries_exhausted');
      this.s.logger.debug(`retrying ${this.o.item} in ${Math.round(delay)}ms: ${res.message}`);
      if (!(await this.sleep(delay))) return fail('shutdown');
    }
  }

  /** Stops taking data, lets queued requests go out (one attempt each) within `graceMs`, drops the rest. */
  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const w of this.waiting) w();
    this.waiting = [];
    for (const a of this.aborts) a();
    const all = Promise.all(this.workers);
    const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([all, timer]);
    const left = this.queue.splice(0);
    const n = left.reduce((a, j) => a + j.items, 0);
    if (n) this.count('exporter_send_failed_items', 'Items an exporter could not deliver.', n, { reason: 'shutdown' });
  }
}
