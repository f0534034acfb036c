// Names of the kernel's enum sk_rst_reason, by value. The values differ between kernel versions,
// so they are read from this kernel's tcp_send_reset tracepoint format (its print fmt lists
// `{ 11, "TCP_ABORT_ON_CLOSE" }` pairs). Without tracefs the label is the number itself.
import { readFileSync } from 'node:fs';

const FORMAT_FILES = ['/sys/kernel/tracing/events/tcp/tcp_send_reset/format', '/sys/kernel/debug/tracing/events/tcp/tcp_send_reset/format'];

/** value → lower-case name (e.g. 1 → 'no_socket'), from a tracepoint format text. */
export function parseResetReasons(format: string): Map<number, string> {
  const out = new Map<number, string>();
  const at = format.indexOf('REC->reason,');
  if (at < 0) return out;
  for (const m of format.slice(at).matchAll(/\{\s*(\d+)\s*,\s*"([A-Z0-9_]+)"\s*\}/g)) out.set(Number(m[1]), m[2]!.toLowerCase());
  return out;
}

export class ResetReasons {
  constructor(private readonly names: Map<number, string>) {}

  static fromKernel(files = FORMAT_FILES): ResetReasons {
    for (const f of files) {
      try { return new ResetReasons(parseResetReasons(readFileSync(f, 'utf8'))); } catch { /* next */ }
    }
    return new ResetReasons(new Map());
  }

  get known(): number { return this.names.size; }

  /** The reason's name; its number when this kernel's names are unknown (bounded either way: a u16 enum). */
  name(value: number): string {
    return this.names.get(value) ?? String(value);
  }
}
