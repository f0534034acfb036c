// Small helpers over OTLP attribute lists (arrays of key/value), used by the enrichment processors.
import type { KeyValue } from '../pdata/types.js';

export function getString(attrs: readonly KeyValue[] | undefined, key: string): string | undefined {
  if (!attrs) return undefined;
  for (const kv of attrs) if (kv.key === key) return kv.value?.stringValue ?? undefined;
  return undefined;
}

export function getInt(attrs: readonly KeyValue[] | undefined, key: string): number | undefined {
  if (!attrs) return undefined;
  for (const kv of attrs) {
    if (kv.key !== key) continue;
    const v = kv.value?.intValue;
    if (typeof v === 'number') return v;
    if (typeof v === 'string') return Number(v);
    if (v && typeof v === 'object') return v.low >>> 0;
  }
  return undefined;
}

/** Sets key to a string value, replacing an existing entry. */
export function setString(attrs: KeyValue[], key: string, value: string): void {
  for (const kv of attrs) if (kv.key === key) { kv.value = { stringValue: value }; return; }
  attrs.push({ key, value: { stringValue: value } });
}

/** Sets key only when absent: what a sender set itself wins. */
export function setIfAbsent(attrs: KeyValue[], key: string, value: string): void {
  for (const kv of attrs) if (kv.key === key) return;
  attrs.push({ key, value: { stringValue: value } });
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
/** True for IP literals (v4, v6); host names are not looked up. */
export const isIp = (s: string) => IPV4.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));
/** ::ffff:a.b.c.d → a.b.c.d (dual-stack sockets); Kubernetes lists IPv4 pods as IPv4. */
export const normalizeIp = (s: string) => (s.startsWith('::ffff:') && s.includes('.') ? s.slice(7) : s);
