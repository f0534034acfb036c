// Which Linux capabilities the agent runs with, checked at start-up before the BPF object loads, so
// a pod that lacks one says so in one line instead of failing deep inside libbpf with EPERM.
// Needed: CAP_BPF (load programs, create maps) and CAP_PERFMON (attach to tracepoints), or
// CAP_SYS_ADMIN, which covers both (kernels before 5.8 know only that one). Wanted but not needed:
// CAP_NET_ADMIN (conntrack netlink: NAT resolution) and CAP_SYS_PTRACE (/proc/<pid>/environ and exe
// of other users' processes: service names from OTEL_SERVICE_NAME, executable paths).
import { readFileSync } from 'node:fs';

const CAP = { CAP_NET_ADMIN: 12, CAP_SYS_PTRACE: 19, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
type CapName = keyof typeof CAP;

const REQUIRED: Array<[CapName, string]> = [['CAP_BPF', 'load the BPF programs'], ['CAP_PERFMON', 'attach them to tracepoints']];
const WANTED: Array<[CapName, string]> = [
  ['CAP_NET_ADMIN', 'NAT resolution from conntrack is off'],
  ['CAP_SYS_PTRACE', "processes of other users are named from their command, not OTEL_SERVICE_NAME"],
];

/** The effective capability set from a /proc/<pid>/status text (CapEff, hexadecimal). */
export function effectiveCapabilities(statusText: string): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/im.exec(statusText);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

const has = (eff: bigint, name: CapName) => (eff >> BigInt(CAP[name])) & 1n ? true : false;

export interface CapabilityReport {
  /** One line naming the first missing capability the agent cannot run without; undefined when none is. */
  fatal?: string;
  /** One line per wanted capability that is missing, saying what is lost. */
  warnings: string[];
}

export function checkCapabilities(statusText = readFileSync('/proc/self/status', 'utf8')): CapabilityReport {
  const eff = effectiveCapabilities(statusText);
  const warnings = WANTED.filter(([c]) => !has(eff, c)).map(([c, lost]) => `running without ${c}: ${lost}`);
  if (has(eff, 'CAP_SYS_ADMIN')) return { warnings };
  const missing = REQUIRED.find(([c]) => !has(eff, c));
  if (!missing) return { warnings };
  const [name, why] = missing;
  return {
    warnings,
    fatal: `missing capability ${name} (needed to ${why}); add it to the container's securityContext.capabilities.add, ` +
      'or set agent.privileged=true on kernels without CAP_BPF (before 5.8, or vendor kernels with backported BPF)',
  };
}
