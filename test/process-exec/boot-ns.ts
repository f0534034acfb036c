// CLOCK_BOOTTIME now, in ns (the clock the kernel stamps exec, exit and capture events with):
// monotonic plus the time spent suspended, as agent/signals/boot-clock.ts reckons it.
import { readFileSync } from 'node:fs';

export function bootNs(): number {
  const mono = Number(process.hrtime.bigint());
  const up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1e9;
  return up - mono > 5e7 ? up : mono;
}
