/* The one definition of the record the kernel hands to userspace. agent/capture/event-layout.ts is
 * generated from the compiled object's BTF (scripts/gen-event-layout.mjs): constants userspace needs
 * are enums, not #defines, so they reach BTF. Every field is naturally aligned; no implicit padding. */
#ifndef SOCKEYE_EVENT_LAYOUT_H
#define SOCKEYE_EVENT_LAYOUT_H

/* Largest payload prefix one event can carry; the runtime cap (rodata payload_cap) is <= this. */
enum sockeye_limits { SOCKEYE_MAX_PAYLOAD = 16384, SOCKEYE_DEFAULT_PAYLOAD = 4096 };

/* Values of the pid_filter / cgroup_filter maps. */
enum sockeye_filter_mark { SOCKEYE_FILTER_INCLUDE = 1, SOCKEYE_FILTER_EXCLUDE = 2 };

enum sockeye_event_kind {
	SOCKEYE_EV_DATA = 1,
	SOCKEYE_EV_CONNECT = 2,
	SOCKEYE_EV_ACCEPT = 3,
	SOCKEYE_EV_CLOSE = 4,
};

enum sockeye_role { SOCKEYE_ROLE_UNKNOWN = 0, SOCKEYE_ROLE_CLIENT = 1, SOCKEYE_ROLE_SERVER = 2 };

enum sockeye_protocol {
	SOCKEYE_PROTO_UNKNOWN = 0,
	SOCKEYE_PROTO_HTTP1 = 1,
	SOCKEYE_PROTO_HTTP2 = 2,
	SOCKEYE_PROTO_DNS = 3,
};

enum sockeye_direction { SOCKEYE_DIR_NONE = 0, SOCKEYE_DIR_EGRESS = 1, SOCKEYE_DIR_INGRESS = 2 };

enum sockeye_syscall {
	SOCKEYE_SYS_NONE = 0,
	SOCKEYE_SYS_READ = 1,
	SOCKEYE_SYS_WRITE = 2,
	SOCKEYE_SYS_READV = 3,
	SOCKEYE_SYS_WRITEV = 4,
	SOCKEYE_SYS_SENDTO = 5,
	SOCKEYE_SYS_RECVFROM = 6,
	SOCKEYE_SYS_SENDMSG = 7,
	SOCKEYE_SYS_RECVMSG = 8,
	SOCKEYE_SYS_SENDMMSG = 9,
	SOCKEYE_SYS_RECVMMSG = 10,
	SOCKEYE_SYS_CLOSE = 11,
	SOCKEYE_SYS_STATE = 12, /* close seen through sock:inet_sock_set_state (no syscall) */
};

/* Indexes into the per-CPU `counters` array map. */
enum sockeye_counter {
	SOCKEYE_CTR_LOST_EVENTS = 0,      /* ring-buffer output failed: event dropped */
	SOCKEYE_CTR_LOST_BYTES = 1,       /* stream bytes carried by those dropped events */
	SOCKEYE_CTR_SUBMITTED = 2,        /* events written to the ring buffer */
	SOCKEYE_CTR_UNMATCHED_DATA = 3,   /* data syscalls on connections no protocol matched */
	SOCKEYE_CTR_ARGS_MAP_FULL = 4,    /* could not remember a syscall's arguments until exit */
	SOCKEYE_CTR_CONN_MAP_FULL = 5,    /* could not create connection state */
	SOCKEYE_CTR_MAX = 6,
};

struct sockeye_event {
	__u64 ts_ns;        /* bpf_ktime_get_boot_ns() */
	__u64 conn_id;      /* per-connection id assigned by the kernel side, starts at 1 */
	__u64 cgroup_id;
	__u64 offset;       /* byte offset of this chunk in its direction's stream */
	__u32 pid;          /* tgid */
	__u32 tid;
	__s32 fd;
	__u32 netns;        /* network namespace inode */
	__u32 total_bytes;  /* bytes the syscall really moved */
	__u32 captured;     /* payload bytes that follow the header (<= payload cap) */
	__u16 local_port;   /* host byte order */
	__u16 remote_port;  /* host byte order */
	__u8 kind;          /* enum sockeye_event_kind */
	__u8 role;          /* enum sockeye_role */
	__u8 protocol;      /* enum sockeye_protocol */
	__u8 family;        /* 4 or 6 */
	__u8 transport;     /* 6 = TCP, 17 = UDP */
	__u8 direction;     /* enum sockeye_direction */
	__u8 syscall;       /* enum sockeye_syscall */
	__u8 reserved;
	__u32 reserved2;    /* keeps the payload 8-byte aligned (header = 120 bytes) */
	__u8 local_addr[16];  /* IPv4 in the first 4 bytes, network order */
	__u8 remote_addr[16];
	char comm[16];
	/* followed by `captured` payload bytes */
};

#endif
