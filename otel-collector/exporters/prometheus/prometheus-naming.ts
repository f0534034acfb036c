// OTLP → Prometheus names, following the OpenTelemetry/Prometheus compatibility rules: invalid
// characters become "_", the unit is appended as a word (s → _seconds), and monotonic counters end
// in _total. Names that already carry the suffix are left alone.
const UNIT_WORDS: Record<string, string> = {
  s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds', min: 'minutes', h: 'hours',
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', KBy: 'kilobytes', MBy: 'megabytes', '%': 'percent',
};

export function sanitizeMetricName(name: string): string {
  let n = name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/__+/g, '_');
  if (/^[0-9]/.test(n)) n = `_${n}`;
  return n;
}

export function sanitizeLabelName(name: string): string {
  let n = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(n)) n = `key_${n}`;
  if (n.startsWith('__') && !name.startsWith('__')) n = `key${n}`;
  return n;
}

export function prometheusName(name: string, unit: string | undefined, kind: 'counter' | 'gauge' | 'histogram' | 'summary', opts: { namespace: string; suffixes: boolean }): string {
  let n = sanitizeMetricName(opts.namespace ? `${opts.namespace}_${name}` : name);
  if (opts.suffixes) {
    const word = unit && !unit.startsWith('{') ? UNIT_WORDS[unit] : undefined;
    if (word && !n.endsWith(`_${word}`) && !(kind === 'counter' && n.endsWith(`_${word}_total`))) {
      n = n.endsWith('_total') ? `${n.slice(0, -6)}_${word}_total` : `${n}_${word}`;
    }
    if (kind === 'counter' && !n.endsWith('_total')) n = `${n}_total`;
  }
  return n;
}
