// The one start-up check: every reason the agent cannot start is worded here, once, naming the real
// cause — a user without permission, a capability the container lacks, tracefs or BTF absent from
// the kernel, a kernel feature missing, the listen address taken. The capability check and the
// kernel preflight supply the facts; `sockeye agent` and the kernel capture report through this.
import { release } from 'node:os';
import { checkCapabilities } from './capability-check.js';
import { kernelAccessDenied, kernelPreflight } from './kernel-preflight.js';

export interface StartupReport {
  /** One line: why the agent cannot start; undefined when it can. */
  fatal?: string;
  /** One line per lost feature the agent runs without (only when there is no fatal problem). */
  warnings: string[];
}

export interface StartupFacts {
  /** /proc/self/status text (capabilities). */
  statusText?: string;
  /** Filesystem root to look for /sys under (tests). */
  root?: string;
  uid?: number;
}

export function startupCheck(facts: StartupFacts = {}): StartupReport {
  const uid = facts.uid ?? process.getuid?.() ?? 0;
  const caps = checkCapabilities(facts.statusText);
  if (caps.fatal) {
    // Not root and without the capabilities: the cause is who runs the agent, not what the pod grants.
    const fatal = uid !== 0
      ? `permission denied: running as uid ${uid} without CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); run the agent as root, or grant it those capabilities`
      : caps.fatal;
    return { fatal, warnings: [] };
  }
  const kernel = kernelProblem(facts.root, uid);
  return kernel ? { fatal: kernel, warnings: [] } : { warnings: caps.warnings };
}

/** Why the kernel side cannot be set up (permission, then missing pieces), or undefined. */
export function kernelProblem(root = '/', uid = process.getuid?.() ?? 0): string | undefined {
  const denied = kernelAccessDenied(root);
  if (denied.length > 0) {
    return `permission denied: uid ${uid} may not read ${denied.join(', ')}; run the agent as root (runAsUser: 0), ` +
      'the kernel interfaces are root-only';
  }
  const missing = kernelPreflight(root);
  if (missing.length > 0) return `the kernel (Linux ${release()}) lacks what the capture needs: missing ${missing.join('; ')}`;
  return undefined;
}

/** The listen error in words: which address, and why it cannot be had. */
export function listenProblem(listen: string, e: NodeJS.ErrnoException): Error {
  const why: Record<string, string> = {
    EADDRINUSE: 'the address is in use by another process (choose another with --listen or the listen key)',
    EACCES: 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)',
    EADDRNOTAVAIL: 'no such address on this host',
  };
  return new Error(`cannot listen on ${listen}: ${why[e.code ?? ''] ?? e.message}`);
}
