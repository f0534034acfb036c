// Names the decoder and the loader use, derived from the generated layout (event-layout.ts, from the
// object's BTF): nothing here restates a number the kernel side defines.
import { EVENT_ENUMS as E } from './event-layout.js';

export const KIND_DATA = E.sockeye_event_kind.SOCKEYE_EV_DATA;
export const KIND_CONNECT = E.sockeye_event_kind.SOCKEYE_EV_CONNECT;
export const KIND_ACCEPT = E.sockeye_event_kind.SOCKEYE_EV_ACCEPT;
export const KIND_CLOSE = E.sockeye_event_kind.SOCKEYE_EV_CLOSE;
export const DIR_EGRESS = E.sockeye_direction.SOCKEYE_DIR_EGRESS;
export const DIR_INGRESS = E.sockeye_direction.SOCKEYE_DIR_INGRESS;
/** SOCKEYE_MAX_PAYLOAD and SOCKEYE_DEFAULT_PAYLOAD. */
export const MAX_PAYLOAD_CAP = E.sockeye_limits.SOCKEYE_MAX_PAYLOAD;
export const DEFAULT_PAYLOAD_CAP = E.sockeye_limits.SOCKEYE_DEFAULT_PAYLOAD;
/** Values of the pid_filter / cgroup_filter maps. */
export const FILTER_INCLUDE = E.sockeye_filter_mark.SOCKEYE_FILTER_INCLUDE;
export const FILTER_EXCLUDE = E.sockeye_filter_mark.SOCKEYE_FILTER_EXCLUDE;

/** The contract's string for each enum value, by enumerator name (typed, so a renamed or removed
 * enumerator fails the build). */
function byValue<T extends Record<string, number>>(values: T, names: { [K in keyof T]: string }): string[] {
  const out: string[] = [];
  for (const k of Object.keys(values) as Array<keyof T>) out[values[k]!] = names[k];
  return out;
}

export const ROLE_NAMES = byValue(E.sockeye_role, {
  SOCKEYE_ROLE_UNKNOWN: 'unknown', SOCKEYE_ROLE_CLIENT: 'client', SOCKEYE_ROLE_SERVER: 'server',
});
export const PROTOCOL_NAMES = byValue(E.sockeye_protocol, {
  SOCKEYE_PROTO_UNKNOWN: 'unknown', SOCKEYE_PROTO_HTTP1: 'http1', SOCKEYE_PROTO_HTTP2: 'http2', SOCKEYE_PROTO_DNS: 'dns',
});
export const SYSCALL_NAMES = byValue(E.sockeye_syscall, {
  SOCKEYE_SYS_NONE: 'none', SOCKEYE_SYS_READ: 'read', SOCKEYE_SYS_WRITE: 'write', SOCKEYE_SYS_READV: 'readv',
  SOCKEYE_SYS_WRITEV: 'writev', SOCKEYE_SYS_SENDTO: 'sendto', SOCKEYE_SYS_RECVFROM: 'recvfrom', SOCKEYE_SYS_SENDMSG: 'sendmsg',
  SOCKEYE_SYS_RECVMSG: 'recvmsg', SOCKEYE_SYS_SENDMMSG: 'sendmmsg', SOCKEYE_SYS_RECVMMSG: 'recvmmsg',
  SOCKEYE_SYS_CLOSE: 'close', SOCKEYE_SYS_STATE: 'state',
});

/** Per-CPU counter slots in the `counters` map, named as CaptureCounters reports them. */
export const KERNEL_COUNTERS = [
  ['lostEvents', E.sockeye_counter.SOCKEYE_CTR_LOST_EVENTS],
  ['lostBytes', E.sockeye_counter.SOCKEYE_CTR_LOST_BYTES],
  ['kernelSubmitted', E.sockeye_counter.SOCKEYE_CTR_SUBMITTED],
  ['unmatchedDataSyscalls', E.sockeye_counter.SOCKEYE_CTR_UNMATCHED_DATA],
  ['argsMapFull', E.sockeye_counter.SOCKEYE_CTR_ARGS_MAP_FULL],
  ['connMapFull', E.sockeye_counter.SOCKEYE_CTR_CONN_MAP_FULL],
] as const;
