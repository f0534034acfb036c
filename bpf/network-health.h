/* SPDX-License-Identifier: GPL-2.0 */
/* The record bpf/network-health.bpf.c writes to its ring buffer: one per TCP event (a connect that
 * finished, an accepted connection, a close, a retransmit, a reset, a listen-queue overflow).
 * Decoded by agent/network-health/tcp-event-decoder.ts; test/kernel/network-health-layout.test.ts
 * compares the two through the object's BTF. No bitfields, explicit padding. */
#ifndef SOCKEYE_NETWORK_HEALTH_H
#define SOCKEYE_NETWORK_HEALTH_H

enum nh_kind {
	NH_CONNECT = 1,         /* SYN sent → ESTABLISHED or → CLOSE (detail: new state; error = sk_err) */
	NH_ACCEPT = 2,          /* SYN_RECV → ESTABLISHED: a connection the local side accepted */
	NH_CLOSE = 3,           /* an established connection reached CLOSE */
	NH_RETRANSMIT = 4,      /* detail = enum nh_retransmit */
	NH_RESET_SENT = 5,      /* detail = the kernel's enum sk_rst_reason */
	NH_RESET_RECEIVED = 6,
	NH_LISTEN_OVERFLOW = 7, /* a packet dropped because a listener's accept queue was full */
};

enum nh_role { NH_ROLE_UNKNOWN = 0, NH_ROLE_CLIENT = 1, NH_ROLE_SERVER = 2 };

enum nh_retransmit { NH_RTX_DATA = 0, NH_RTX_SYN = 1, NH_RTX_SYN_ACK = 2 };

enum nh_flag {
	NH_F_OWNER = 1,     /* tgid/comm are the socket's owner */
	NH_F_START = 2,     /* duration_ns is known */
	NH_F_NO_SOCKET = 4, /* a reset the kernel sent for a packet that matched no full socket */
};

enum nh_counter { NH_CNT_LOST = 0, NH_CNT_MAX = 1 };

struct nh_record {
	__u64 ts_ns;       /* CLOCK_BOOTTIME */
	__u64 sock;        /* kernel socket address: joins one connection's events (0: none) */
	__u64 duration_ns; /* NH_CONNECT: SYN sent → result; NH_CLOSE: established → close */
	__u32 tgid;
	__u32 netns;       /* network namespace inode */
	__u32 srtt_us;     /* NH_CLOSE: smoothed RTT */
	__u32 error;       /* NH_CONNECT: the socket's errno (0 = established) */
	__u16 detail;      /* by kind: connect: new state; retransmit: enum nh_retransmit; reset sent: sk_rst_reason */
	__u16 family;      /* AF_INET / AF_INET6 */
	__u16 local_port;  /* host order */
	__u16 remote_port; /* host order */
	__u8 kind;
	__u8 role;
	__u8 state;        /* TCP state (include/net/tcp_states.h numbering) */
	__u8 flags;        /* enum nh_flag */
	__u32 pad;
	__u8 local_addr[16];  /* network order; IPv4 in the first 4 bytes */
	__u8 remote_addr[16];
	char comm[16];
};

#endif
