// Kernel timestamps are CLOCK_BOOTTIME nanoseconds; spans need Unix time. Node exposes only
// CLOCK_MONOTONIC (process.hrtime) and the wall clock, so: boottime = monotonic + time spent
// suspended (read from /proc/uptime, which is boot-time based), and wall = monotonic + offset.
import { readFileSync } from 'node:fs';

export interface BootClock {
  /** Unix-epoch nanoseconds of boot-time 0 (add a kernel timestamp to get wall clock). */
  readonly bootEpochNs: number;
  /** Converts kernel ns-since-boot to an OTel HrTime [seconds, nanos]. */
  toHrTime(bootNs: number): [number, number];
}

/** Reads /proc/uptime (seconds since boot incl. suspend, 10 ms resolution). */
function uptimeSeconds(): number | undefined {
  try {
    return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

export function createBootClock(): BootClock {
  // Sample monotonic and wall clock close together, take the tightest of a few tries.
  let best = Infinity;
  let offsetNs = 0;
  for (let i = 0; i < 5; i++) {
    const a = process.hrtime.bigint();
    const wallNs = (performance.timeOrigin + performance.now()) * 1e6;
    const b = process.hrtime.bigint();
    const spread = Number(b - a);
    if (spread < best) {
      best = spread;
      offsetNs = wallNs - Number((a + b) / 2n);
    }
  }
  // Suspend time: boottime runs ahead of monotonic by it. Below /proc/uptime's resolution it is 0.
  const up = uptimeSeconds();
  const mono = Number(process.hrtime.bigint()) / 1e9;
  const suspendedNs = up !== undefined && up - mono > 0.05 ? (up - mono) * 1e9 : 0;
  const epochNs = offsetNs - suspendedNs;
  const s = Math.floor(epochNs / 1e9);
  return fromEpoch(s, Math.round(epochNs - s * 1e9));
}

/** A clock whose boot time 0 is Unix time epochS seconds + epochRem nanoseconds. */
export function fromEpoch(epochS: number, epochRem: number): BootClock {
  return {
    bootEpochNs: epochS * 1e9 + epochRem,
    toHrTime(bootNs: number): [number, number] {
      // Split before adding so the nanosecond part keeps its precision (epoch ns exceed 2^53).
      const s = Math.floor(bootNs / 1e9);
      let ns = Math.round(bootNs - s * 1e9 + epochRem);
      let sec = epochS + s;
      if (ns >= 1e9) { sec += 1; ns -= 1e9; }
      return [sec, ns];
    },
  };
}
