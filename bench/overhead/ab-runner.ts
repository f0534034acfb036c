// Alternating A/B runs: untraced, traced, untraced, traced, … so that drift in a shared, noisy
// machine hits both sides alike. Reports the median of each side and their ratio.
import { median } from './proc-stats.js';

export interface AbOutcome<T> {
  untraced: T[];
  traced: T[];
}

export async function alternate<T>(rounds: number, runOnce: (traced: boolean) => Promise<T>): Promise<AbOutcome<T>> {
  const out: AbOutcome<T> = { untraced: [], traced: [] };
  for (let i = 0; i < rounds; i++) {
    out.untraced.push(await runOnce(false));
    out.traced.push(await runOnce(true));
  }
  return out;
}

export function medianOf<T>(xs: T[], pick: (x: T) => number): number {
  return median(xs.map(pick));
}
