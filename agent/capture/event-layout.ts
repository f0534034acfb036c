// TypeScript mirror of bpf/event-layout.h: byte offsets of `struct sockeye_event` and the values of
// its enums. test/kernel/event-layout.test.ts compares every entry with the compiled object's BTF,
// so a change to one side alone fails the tests.

/** Offset and size in bytes of each member of `struct sockeye_event`, by its C name. */
export const EVENT_FIELDS = {
  ts_ns: { offset: 0, size: 8 },
  conn_id: { offset: 8, size: 8 },
  cgroup_id: { offset: 16, size: 8 },
  offset: { offset: 24, size: 8 },
  pid: { offset: 32, size: 4 },
  tid: { offset: 36, size: 4 },
  fd: { offset: 40, size: 4 },
  netns: { offset: 44, size: 4 },
  total_bytes: { offset: 48, size: 4 },
  captured: { offset: 52, size: 4 },
  local_port: { offset: 56, size: 2 },
  remote_port: { offset: 58, size: 2 },
  kind: { offset: 60, size: 1 },
  role: { offset: 61, size: 1 },
  protocol: { offset: 62, size: 1 },
  family: { offset: 63, size: 1 },
  transport: { offset: 64, size: 1 },
  direction: { offset: 65, size: 1 },
  syscall: { offset: 66, size: 1 },
  reserved: { offset: 67, size: 1 },
  reserved2: { offset: 68, size: 4 },
  local_addr: { offset: 72, size: 16 },
  remote_addr: { offset: 88, size: 16 },
  comm: { offset: 104, size: 16 },
} as const;

/** sizeof(struct sockeye_event): the payload starts here. */
export const EVENT_HEADER_SIZE = 120;
/** SOCKEYE_MAX_PAYLOAD and SOCKEYE_DEFAULT_PAYLOAD. */
export const MAX_PAYLOAD_CAP = 16384;
export const DEFAULT_PAYLOAD_CAP = 4096;

/** Enum values by C enumerator name, per C enum. */
export const EVENT_ENUMS = {
  sockeye_event_kind: { SOCKEYE_EV_DATA: 1, SOCKEYE_EV_CONNECT: 2, SOCKEYE_EV_ACCEPT: 3, SOCKEYE_EV_CLOSE: 4 },
  sockeye_role: { SOCKEYE_ROLE_UNKNOWN: 0, SOCKEYE_ROLE_CLIENT: 1, SOCKEYE_ROLE_SERVER: 2 },
  sockeye_protocol: { SOCKEYE_PROTO_UNKNOWN: 0, SOCKEYE_PROTO_HTTP1: 1, SOCKEYE_PROTO_HTTP2: 2, SOCKEYE_PROTO_DNS: 3 },
  sockeye_direction: { SOCKEYE_DIR_NONE: 0, SOCKEYE_DIR_EGRESS: 1, SOCKEYE_DIR_INGRESS: 2 },
  sockeye_syscall: {
    SOCKEYE_SYS_NONE: 0, SOCKEYE_SYS_READ: 1, SOCKEYE_SYS_WRITE: 2, SOCKEYE_SYS_READV: 3, SOCKEYE_SYS_WRITEV: 4,
    SOCKEYE_SYS_SENDTO: 5, SOCKEYE_SYS_RECVFROM: 6, SOCKEYE_SYS_SENDMSG: 7, SOCKEYE_SYS_RECVMSG: 8,
    SOCKEYE_SYS_SENDMMSG: 9, SOCKEYE_SYS_RECVMMSG: 10, SOCKEYE_SYS_CLOSE: 11, SOCKEYE_SYS_STATE: 12,
  },
  sockeye_counter: {
    SOCKEYE_CTR_LOST_EVENTS: 0, SOCKEYE_CTR_LOST_BYTES: 1, SOCKEYE_CTR_SUBMITTED: 2, SOCKEYE_CTR_UNMATCHED_DATA: 3,
    SOCKEYE_CTR_ARGS_MAP_FULL: 4, SOCKEYE_CTR_CONN_MAP_FULL: 5, SOCKEYE_CTR_MAX: 6,
  },
} as const;

const E = EVENT_ENUMS;
export const KIND_DATA = E.sockeye_event_kind.SOCKEYE_EV_DATA;
export const KIND_CONNECT = E.sockeye_event_kind.SOCKEYE_EV_CONNECT;
export const KIND_ACCEPT = E.sockeye_event_kind.SOCKEYE_EV_ACCEPT;
export const KIND_CLOSE = E.sockeye_event_kind.SOCKEYE_EV_CLOSE;
export const DIR_EGRESS = E.sockeye_direction.SOCKEYE_DIR_EGRESS;
export const DIR_INGRESS = E.sockeye_direction.SOCKEYE_DIR_INGRESS;

/** Lookup tables from the kernel's numbers to the contract's strings (index = enum value). */
export const ROLE_NAMES = ['unknown', 'client', 'server'] as const;
export const PROTOCOL_NAMES = ['unknown', 'http1', 'http2', 'dns'] as const;
export const SYSCALL_NAMES = [
  'none', 'read', 'write', 'readv', 'writev', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'sendmmsg', 'recvmmsg',
  'close', 'state',
] as const;

/** Per-CPU counter slots in the `counters` map, named as CaptureCounters reports them. */
export const KERNEL_COUNTERS = [
  ['lostEvents', E.sockeye_counter.SOCKEYE_CTR_LOST_EVENTS],
  ['lostBytes', E.sockeye_counter.SOCKEYE_CTR_LOST_BYTES],
  ['kernelSubmitted', E.sockeye_counter.SOCKEYE_CTR_SUBMITTED],
  ['unmatchedDataSyscalls', E.sockeye_counter.SOCKEYE_CTR_UNMATCHED_DATA],
  ['argsMapFull', E.sockeye_counter.SOCKEYE_CTR_ARGS_MAP_FULL],
  ['connMapFull', E.sockeye_counter.SOCKEYE_CTR_CONN_MAP_FULL],
] as const;
