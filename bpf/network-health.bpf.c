// SPDX-License-Identifier: GPL-2.0
/* sockeye network health: TCP connects, accepts, closes, retransmits, resets and listen-queue
 * overflows from TCP/socket tracepoints (tp_btf: no tracefs needed), one nh_record each in a ring
 * buffer of its own. These run per TCP event, not per syscall; most fire in softirq, where the
 * current task is not the socket's owner, so the owner is remembered per socket when it is known:
 * at connect (CLOSE → SYN_SENT runs in the connecting process) and, for accepted connections, from
 * the listener (CLOSE → LISTEN runs in the listening process). Loaded by
 * agent/network-health/network-health-capture.ts. Record layout: network-health.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "network-health.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define ETH_P_IP 0x0800
/* include/net/tcp_states.h: stable kernel ABI (also in /proc/net/tcp). */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_TIME_WAIT 6
#define TCP_CLOSE 7
#define TCP_LISTEN 10
#define TCP_NEW_SYN_RECV 12

/* The agent's own process: its export connections are not the workload's network health. */
const volatile __u32 own_tgid = 0;

/* Keeps the record and its enums in BTF (test/kernel/network-health-layout.test.ts). */
struct nh_layout {
	struct nh_record record;
	enum nh_kind kind;
	enum nh_role role;
	enum nh_retransmit retransmit;
	enum nh_flag flag;
	enum nh_counter counter;
};
struct nh_layout *nh_layout_for_btf;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} nh_events SEC(".maps");

/* Who owns a socket, since when, and its last state before CLOSE (a reset sent by close() with
 * SO_LINGER 0 comes after the CLOSE transition). LRU: entries are kept after CLOSE for that reset
 * and go when the map needs room; a reused socket address is overwritten at its SYN_SENT/SYN_RECV. */
struct nh_owner {
	__u64 start_ns;
	__u32 tgid;
	__u16 lport; /* the local port once connected: CLOSE releases it before the tracepoint runs */
	__u8 role;
	__u8 last_state;
	__u8 flags;
	__u8 pad[7];
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct nh_owner);
} nh_socks SEC(".maps");

struct nh_listen_key {
	__u32 netns;
	__u16 port;
	__u16 pad;
};

struct nh_listener {
	__u32 tgid;
	__u32 pad;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct nh_listen_key);
	__type(value, struct nh_listener);
} nh_listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NH_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} nh_counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&nh_counters, &which);
	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline __u32 sk_netns(const struct sock_common *skc)
{
	return BPF_CORE_READ(skc, skc_net.net, ns.inum);
}

/* Addresses and ports of a socket (full, request or time-wait: all start with sock_common). */
static __always_inline void fill_tuple(struct nh_record *r, const struct sock_common *skc)
{
	__u16 family = BPF_CORE_READ(skc, skc_family);
	r->family = family;
	r->local_port = BPF_CORE_READ(skc, skc_num);
	r->remote_port = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	r->netns = sk_netns(skc);
	if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&r->local_addr, skc, skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&r->remote_addr, skc, skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)r->local_addr, skc, skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)r->remote_addr, skc, skc_daddr);
	}
}

/* Addresses of the packet a reset answers, seen from this host (local = its destination). */
static __always_inline void fill_tuple_from_skb(struct nh_record *r, const struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	__u8 vihl = 0;
	struct tcphdr tcp = {};
	bpf_probe_read_kernel(&vihl, 1, head + nh);
	bpf_probe_read_kernel(&tcp, sizeof(tcp), head + th);
	r->local_port = bpf_ntohs(tcp.dest);
	r->remote_port = bpf_ntohs(tcp.source);
	r->netns = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
	if ((vihl >> 4) == 6) {
		struct ipv6hdr ip6 = {};
		bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh);
		r->family = AF_INET6;
		__builtin_memcpy(r->local_addr, &ip6.daddr, 16);
		__builtin_memcpy(r->remote_addr, &ip6.saddr, 16);
	} else {
		struct iphdr ip = {};
		bpf_probe_read_kernel(&ip, sizeof(ip), head + nh);
		r->family = AF_INET;
		__builtin_memcpy(r->local_addr, &ip.daddr, 4);
		__builtin_memcpy(r->remote_addr, &ip.saddr, 4);
	}
}

static __always_inline struct nh_record *reserve(__u8 kind, __u64 sock)
{
	struct nh_record *r = bpf_ringbuf_reserve(&nh_events, sizeof(*r), 0);
	if (!r) {
		count(NH_CNT_LOST);
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->ts_ns = bpf_ktime_get_boot_ns();
	r->kind = kind;
	r->sock = sock;
	return r;
}

/* Wakes the reader only when the ring is a quarter full; its timer drains the rest. */
static __always_inline void submit(struct nh_record *r)
{
	__u64 avail = bpf_ringbuf_query(&nh_events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(r, avail > 64 * 1024 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline void fill_owner(struct nh_record *r, const struct nh_owner *o)
{
	r->role = o->role;
	r->tgid = o->tgid;
	if (!r->local_port)
		r->local_port = o->lport;
	if (o->flags & NH_F_OWNER) {
		r->flags |= NH_F_OWNER;
		__builtin_memcpy(r->comm, o->comm, sizeof(r->comm));
	}
}

static __always_inline int is_own(const struct nh_owner *o)
{
	return o && own_tgid && o->tgid == own_tgid;
}

/* A record about a full socket: tuple, state and owner filled in; NULL when the socket is the agent's
 * own (not reported) or the ring is full (counted by reserve). */
static __always_inline struct nh_record *sock_record(__u8 kind, const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct nh_owner *o = bpf_map_lookup_elem(&nh_socks, &key);
	if (is_own(o))
		return 0;
	struct nh_record *r = reserve(kind, key);
	if (!r)
		return 0;
	fill_tuple(r, &sk->__sk_common);
	r->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (o)
		fill_owner(r, o);
	return r;
}

/* The process's name (its thread-group leader's comm), never the calling thread's own name. */
static __always_inline void process_comm(char *dst)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO((char(*)[16])dst, task, group_leader, comm);
}

static __always_inline void on_connecting(__u64 key)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct nh_owner o = { .start_ns = bpf_ktime_get_boot_ns(), .tgid = tgid, .role = NH_ROLE_CLIENT,
			      .last_state = TCP_SYN_SENT, .flags = NH_F_OWNER };
	process_comm(o.comm);
	bpf_map_update_elem(&nh_socks, &key, &o, BPF_ANY);
}

static __always_inline void on_listen(const struct sock *sk)
{
	struct nh_listen_key k = { .netns = sk_netns(&sk->__sk_common), .port = BPF_CORE_READ(sk, __sk_common.skc_num) };
	struct nh_listener l = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	process_comm(l.comm);
	bpf_map_update_elem(&nh_listeners, &k, &l, BPF_ANY);
}

/* A child socket of a listener (LISTEN → SYN_RECV, softirq): its owner is the listener's. */
static __always_inline void on_child(const struct sock *sk, __u64 key)
{
	struct nh_listen_key k = { .netns = sk_netns(&sk->__sk_common), .port = BPF_CORE_READ(sk, __sk_common.skc_num) };
	struct nh_listener *l = bpf_map_lookup_elem(&nh_listeners, &k);
	struct nh_owner o = { .start_ns = bpf_ktime_get_boot_ns(), .role = NH_ROLE_SERVER, .last_state = TCP_SYN_RECV };
	if (l) {
		o.tgid = l->tgid;
		o.flags = NH_F_OWNER;
		__builtin_memcpy(o.comm, l->comm, sizeof(o.comm));
	}
	bpf_map_update_elem(&nh_socks, &key, &o, BPF_ANY);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(nh_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)sk;
	if (newstate == TCP_SYN_SENT) {
		on_connecting(key);
		return 0;
	}
	if (newstate == TCP_LISTEN) {
		on_listen(sk);
		return 0;
	}
	if (newstate == TCP_SYN_RECV && oldstate == TCP_LISTEN) {
		on_child(sk, key);
		return 0;
	}
	struct nh_owner *o = bpf_map_lookup_elem(&nh_socks, &key);
	if (is_own(o))
		return 0;
	__u64 now = bpf_ktime_get_boot_ns();
	__u8 kind = 0;
	if (oldstate == TCP_SYN_SENT && (newstate == TCP_ESTABLISHED || newstate == TCP_CLOSE))
		kind = NH_CONNECT;
	else if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED)
		kind = NH_ACCEPT;
	else if (newstate == TCP_CLOSE && oldstate != TCP_SYN_RECV && oldstate != TCP_LISTEN)
		kind = NH_CLOSE;
	if (!kind) {
		if (o)
			o->last_state = newstate;
		return 0;
	}
	struct nh_record *r = reserve(kind, key);
	if (!r)
		return 0;
	fill_tuple(r, &sk->__sk_common);
	r->state = oldstate;
	r->detail = newstate;
	if (o) {
		if (kind != NH_CLOSE && newstate == TCP_ESTABLISHED)
			o->lport = r->local_port;
		fill_owner(r, o);
		if (o->start_ns) {
			r->duration_ns = now - o->start_ns;
			r->flags |= NH_F_START;
		}
		if (kind == NH_CONNECT && newstate == TCP_CLOSE)
			r->error = BPF_CORE_READ(sk, sk_err);
		if (kind != NH_CLOSE)
			o->start_ns = now; /* the connection's life starts at ESTABLISHED */
		o->last_state = oldstate;
	} else if (kind == NH_CONNECT && newstate == TCP_CLOSE) {
		r->error = BPF_CORE_READ(sk, sk_err);
	}
	if (kind == NH_CLOSE)
		r->srtt_us = BPF_CORE_READ((const struct tcp_sock *)sk, srtt_us) >> 3;
	submit(r);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(nh_retransmit, const struct sock *sk, const struct sk_buff *skb, int err)
{
	if (err)
		return 0; /* nothing left the host */
	struct nh_record *r = sock_record(NH_RETRANSMIT, sk);
	if (!r)
		return 0;
	r->detail = r->state == TCP_SYN_SENT ? NH_RTX_SYN : NH_RTX_DATA;
	submit(r);
	return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(nh_retransmit_synack, const struct sock *listener, const struct request_sock *req)
{
	struct nh_listen_key k = { .netns = sk_netns(&listener->__sk_common), .port = BPF_CORE_READ(listener, __sk_common.skc_num) };
	struct nh_listener *l = bpf_map_lookup_elem(&nh_listeners, &k);
	if (l && own_tgid && l->tgid == own_tgid)
		return 0;
	struct nh_record *r = reserve(NH_RETRANSMIT, 0);
	if (!r)
		return 0;
	fill_tuple(r, &req->__req_common);
	r->state = TCP_SYN_RECV;
	r->detail = NH_RTX_SYN_ACK;
	r->role = NH_ROLE_SERVER;
	if (l) {
		r->tgid = l->tgid;
		r->flags |= NH_F_OWNER;
		__builtin_memcpy(r->comm, l->comm, sizeof(r->comm));
	}
	submit(r);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(nh_send_reset, const struct sock *sk, const struct sk_buff *skb, int reason)
{
	__u8 state = sk ? BPF_CORE_READ(sk, __sk_common.skc_state) : 0;
	int full = sk && state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV;
	__u64 key = (__u64)sk;
	struct nh_owner *o = full ? bpf_map_lookup_elem(&nh_socks, &key) : 0;
	if (is_own(o))
		return 0;
	struct nh_record *r = reserve(NH_RESET_SENT, full ? key : 0);
	if (!r)
		return 0;
	r->detail = reason;
	r->state = state;
	if (full) {
		fill_tuple(r, &sk->__sk_common);
		if (o) {
			fill_owner(r, o);
			if (state == TCP_CLOSE)
				r->state = o->last_state; /* close() with SO_LINGER 0 resets after CLOSE */
		}
	} else {
		if (skb)
			fill_tuple_from_skb(r, skb);
		else if (sk)
			fill_tuple(r, &sk->__sk_common);
		if (!sk)
			r->flags |= NH_F_NO_SOCKET;
	}
	submit(r);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(nh_receive_reset, struct sock *sk)
{
	struct nh_record *r = sock_record(NH_RESET_RECEIVED, sk);
	if (!r)
		return 0;
	submit(r);
	return 0;
}

/* Kernels with drop reasons (5.17+; TCP_LISTEN_OVERFLOW since 6.x): the agent skips this program
 * when it does not load. Filtered on the reason first: kfree_skb fires for every dropped packet. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(nh_kfree_skb, struct sk_buff *skb, void *location, int reason)
{
	if (!bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW) ||
	    reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW))
		return 0;
	struct nh_record *r = reserve(NH_LISTEN_OVERFLOW, 0);
	if (!r)
		return 0;
	fill_tuple_from_skb(r, skb);
	r->state = TCP_LISTEN;
	r->role = NH_ROLE_SERVER;
	struct nh_listen_key k = { .netns = r->netns, .port = r->local_port };
	struct nh_listener *l = bpf_map_lookup_elem(&nh_listeners, &k);
	if (l) {
		r->tgid = l->tgid;
		r->flags |= NH_F_OWNER;
		__builtin_memcpy(r->comm, l->comm, sizeof(r->comm));
	}
	submit(r);
	return 0;
}
