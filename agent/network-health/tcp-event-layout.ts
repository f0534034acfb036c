// Byte layout of struct nh_record (bpf/network-health.h): offsets and sizes as the BPF object's BTF
// has them (test/kernel/network-health-layout.test.ts compares the two), and the enum values.
export const TCP_RECORD_SIZE = 104;

export const TCP_RECORD_FIELDS = {
  ts_ns: { offset: 0, size: 8 },
  sock: { offset: 8, size: 8 },
  duration_ns: { offset: 16, size: 8 },
  tgid: { offset: 24, size: 4 },
  netns: { offset: 28, size: 4 },
  srtt_us: { offset: 32, size: 4 },
  error: { offset: 36, size: 4 },
  detail: { offset: 40, size: 2 },
  family: { offset: 42, size: 2 },
  local_port: { offset: 44, size: 2 },
  remote_port: { offset: 46, size: 2 },
  kind: { offset: 48, size: 1 },
  role: { offset: 49, size: 1 },
  state: { offset: 50, size: 1 },
  flags: { offset: 51, size: 1 },
  pad: { offset: 52, size: 4 },
  local_addr: { offset: 56, size: 16 },
  remote_addr: { offset: 72, size: 16 },
  comm: { offset: 88, size: 16 },
} as const;

export const TCP_RECORD_ENUMS = {
  nh_kind: { NH_CONNECT: 1, NH_ACCEPT: 2, NH_CLOSE: 3, NH_RETRANSMIT: 4, NH_RESET_SENT: 5, NH_RESET_RECEIVED: 6, NH_LISTEN_OVERFLOW: 7 },
  nh_role: { NH_ROLE_UNKNOWN: 0, NH_ROLE_CLIENT: 1, NH_ROLE_SERVER: 2 },
  nh_retransmit: { NH_RTX_DATA: 0, NH_RTX_SYN: 1, NH_RTX_SYN_ACK: 2 },
  nh_flag: { NH_F_OWNER: 1, NH_F_START: 2, NH_F_NO_SOCKET: 4 },
  nh_counter: { NH_CNT_LOST: 0, NH_CNT_MAX: 1 },
} as const;

const K = TCP_RECORD_ENUMS.nh_kind;
export const KIND_NAMES: Record<number, TcpEventKind> = {
  [K.NH_CONNECT]: 'connect', [K.NH_ACCEPT]: 'accept', [K.NH_CLOSE]: 'close', [K.NH_RETRANSMIT]: 'retransmit',
  [K.NH_RESET_SENT]: 'reset_sent', [K.NH_RESET_RECEIVED]: 'reset_received', [K.NH_LISTEN_OVERFLOW]: 'listen_overflow',
};
export type TcpEventKind = 'connect' | 'accept' | 'close' | 'retransmit' | 'reset_sent' | 'reset_received' | 'listen_overflow';

export const RETRANSMIT_NAMES = ['data', 'syn', 'syn_ack'] as const;
export type RetransmitKind = (typeof RETRANSMIT_NAMES)[number];

/** include/net/tcp_states.h numbering (stable: /proc/net/tcp shows it too). */
export const TCP_STATE_NAMES = ['', 'established', 'syn_sent', 'syn_recv', 'fin_wait1', 'fin_wait2', 'time_wait',
  'close', 'close_wait', 'last_ack', 'listen', 'closing', 'new_syn_recv'];
