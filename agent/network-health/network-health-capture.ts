// Loads bpf/network-health.bpf.o (its own object and ring buffer, beside the syscall capture),
// attaches its TCP/socket tracepoint programs and hands decoded TcpEvents to one callback.
// Kernels without the skb drop reason for listen overflows load without that one program.
import { fileURLToPath } from 'node:url';
import { BpfObject, forEachRecord, sumPerCpuU64, type AttachResult, type ProgramStats } from '../capture/native-bpf.js';
import { decodeTcpEvent, type TcpEvent } from './tcp-event-decoder.js';
import { TCP_RECORD_ENUMS } from './tcp-event-layout.js';

export const networkHealthObjectPath: string = process.env.SOCKEYE_NETWORK_HEALTH_OBJECT
  ?? fileURLToPath(new URL('../../../build/bpf/network-health.bpf.o', import.meta.url));

/** Programs without which there is nothing to report (connects, closes, attribution). */
const ESSENTIAL = 'nh_set_state';
/** Optional: needs enum skb_drop_reason with SKB_DROP_REASON_TCP_LISTEN_OVERFLOW (kernel 6.x). */
const LISTEN_OVERFLOW_PROGRAM = 'nh_kfree_skb';

export interface NetworkHealthCaptureOptions {
  objectPath?: string;
  /** Events of this process's own sockets are not reported (the agent's export traffic). */
  ownPid?: number;
  /** Ring-buffer drain period (records are submitted without wake-ups). Default 100 ms. */
  flushIntervalMs?: number;
}

export interface NetworkHealthCounters {
  records: number;
  decodeErrors: number;
  /** Records the kernel could not reserve ring-buffer space for. */
  lost: number;
}

export class NetworkHealthCapture {
  private readonly counts = { records: 0, decodeErrors: 0 };

  private constructor(private readonly obj: BpfObject, readonly attachments: AttachResult[],
    /** What was left out and why (e.g. listen overflows on a kernel without the drop reason). */
    readonly missing: string[], private readonly flushIntervalMs: number) {}

  /** Throws (with the kernel's reason) when the essential programs cannot load or attach. */
  static open(o: NetworkHealthCaptureOptions = {}): NetworkHealthCapture {
    const path = o.objectPath ?? networkHealthObjectPath;
    const rodata = { own_tgid: o.ownPid ?? 0 };
    const missing: string[] = [];
    let obj: BpfObject;
    try {
      obj = BpfObject.load(path, { rodata });
    } catch (first) {
      obj = BpfObject.load(path, { rodata, skipPrograms: [LISTEN_OVERFLOW_PROGRAM] });
      missing.push(`listen overflows (${LISTEN_OVERFLOW_PROGRAM} did not load: ${firstLine(first)})`);
    }
    const attachments = obj.attachAll();
    const essential = attachments.find((a) => a.program === ESSENTIAL);
    if (!essential?.attached) {
      obj.close();
      throw new Error(`cannot attach ${ESSENTIAL} (tp_btf/inet_sock_set_state): ${essential?.error ?? 'not loaded'}`);
    }
    for (const a of attachments) if (!a.attached) missing.push(`${a.program} (${a.section}): ${a.error ?? 'not attached'}`);
    return new NetworkHealthCapture(obj, attachments, missing, o.flushIntervalMs ?? 100);
  }

  /** Starts delivery; cb gets each batch's decoded events, in order. */
  onEvents(cb: (events: TcpEvent[]) => void): void {
    this.obj.startRingBuffer('nh_events', (batch) => {
      const out: TcpEvent[] = [];
      forEachRecord(batch, (rec) => {
        const e = decodeTcpEvent(rec);
        if (e) out.push(e);
        else this.counts.decodeErrors++;
      });
      this.counts.records += out.length;
      if (out.length) cb(out);
    }, { flushIntervalMs: this.flushIntervalMs, keepAlive: false });
  }

  /** Drains the ring now (tests, shutdown). */
  pollNow(): number { return this.obj.pollNow(); }

  counters(): NetworkHealthCounters {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(TCP_RECORD_ENUMS.nh_counter.NH_CNT_LOST);
    return { ...this.counts, lost: Number(sumPerCpuU64(this.obj.mapLookupPerCpu('nh_counters', key))) };
  }

  programStats(): ProgramStats[] { return this.obj.programStats(); }

  close(): void { this.obj.close(); }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
