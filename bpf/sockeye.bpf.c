// SPDX-License-Identifier: GPL-2.0
/* sockeye kernel capture: socket-syscall tracepoints -> protocol-filtered data, connect/accept and
 * close events in one ring buffer. Layout: event-layout.h. Loaded by agent/capture/kernel-capture.ts. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "event-layout.h"
#include "maps.h"
#include "socket-lookup.h"
#include "protocol-inference.h"

char LICENSE[] SEC("license") = "GPL";

#define MAX_IOV 32          /* iovecs copied per readv/writev/sendmsg/recvmsg (gRPC C-core writes 27) */
#define MAX_MMSG 8          /* messages reported per sendmmsg/recvmmsg */
#define MAX_INFER_ATTEMPTS 8
/* Bytes inference looks at (the longest check, the HTTP/2 preface, needs 24; a HEADERS frame's first
 * field at most 16): the whole capture is copied only once a protocol matched. */
#define INFER_PREFIX 64
#define EINPROGRESS 115
#define TCP_CLOSE 7

/* Keeps the layout enums in BTF (event fields are plain __u8): scripts/gen-event-layout.mjs reads
 * them from there into agent/capture/event-layout.ts. */
struct sockeye_layout_enums {
	enum sockeye_limits limits;
	enum sockeye_filter_mark filter_mark;
	enum sockeye_event_kind kind;
	enum sockeye_role role;
	enum sockeye_protocol protocol;
	enum sockeye_direction direction;
	enum sockeye_syscall syscall;
	enum sockeye_counter counter;
};
struct sockeye_layout_enums *layout_enums_for_btf;

/* One piece of stream to report: a plain buffer or an iovec array, with its true length. */
struct chunk {
	__u64 src;
	__u64 name;  /* user sockaddr of the peer, or 0 */
	__u64 len;
	__u32 iovcnt;
	__u8 is_iov;
	__u8 dir;
};

static __always_inline __u32 cap_now(void)
{
	__u32 cap = payload_cap;
	return cap > SOCKEYE_MAX_PAYLOAD ? SOCKEYE_MAX_PAYLOAD : cap;
}

static __always_inline __u32 copy_part(struct scratch_event *s, __u32 at, __u64 src, __u64 len, __u32 cap)
{
	if (at >= cap)
		return at;
	__u64 n = len;
	if (n > cap - at)
		n = cap - at;
	at &= SOCKEYE_MAX_PAYLOAD - 1;
	if (n > SOCKEYE_MAX_PAYLOAD)
		n = SOCKEYE_MAX_PAYLOAD;
	bpf_probe_read_user(s->payload + at, n, (const void *)src);
	return at + n;
}

static __always_inline __u32 copy_iovecs(struct scratch_event *s, __u64 iov, __u32 iovcnt, __u64 len, __u32 cap)
{
	__u32 at = 0;
	__u64 left = len;
	for (int i = 0; i < MAX_IOV; i++) {
		if (i >= iovcnt || left == 0)
			break;
		struct iovec v;
		if (bpf_probe_read_user(&v, sizeof(v), (const void *)(iov + i * sizeof(struct iovec))))
			break;
		__u64 n = v.iov_len < left ? v.iov_len : left;
		at = copy_part(s, at, (__u64)v.iov_base, n, cap);
		left -= n;
		if (at >= cap)
			break;
	}
	return at;
}

static __always_inline struct conn_state *conn_for(__u64 sk, __u64 ino, __u32 pid)
{
	struct conn_state *c = bpf_map_lookup_elem(&conns, &sk);
	if (c && c->ino == ino) {
		/* UDP peers and a not-yet-bound local port can change: re-read those from the sock. */
		if (c->tuple.transport == IPPROTO_UDP || c->tuple.local_port == 0)
			read_tuple(&c->tuple, (struct sock *)sk);
		return c;
	}
	struct conn_state fresh = {};
	read_tuple(&fresh.tuple, (struct sock *)sk);
	fresh.conn_id = __sync_fetch_and_add(&next_conn_id, 1) + 1;
	fresh.ino = ino;
	fresh.pid = pid;
	if (bpf_map_update_elem(&conns, &sk, &fresh, BPF_ANY)) {
		count(SOCKEYE_CTR_CONN_MAP_FULL, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&conns, &sk);
}

static __always_inline void fill_common(struct sockeye_event *e, struct conn_state *c, __u64 pid_tgid, __s32 fd)
{
	/* comm and cgroup id by direct loads from the current task instead of bpf_get_current_comm
	 * (a byte-wise copy) and bpf_get_current_cgroup_id: same values (comm is kept NUL-padded by the
	 * kernel; the helper also reads the default hierarchy's cgroup), no helper call. */
	struct task_struct *task = bpf_get_current_task_btf();
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->conn_id = c->conn_id;
	e->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->fd = fd;
	e->role = c->role;
	e->protocol = c->protocol;
	e->reserved = 0;
	e->reserved2 = 0;
	/* The process's name (its thread-group leader's comm), never a worker thread's own name: a
	 * process that exits before userspace reads /proc still has its identity. */
	__builtin_memcpy(e->comm, task->group_leader->comm, sizeof(e->comm));
}

/* Wake the consumer once each time the backlog crosses a multiple of ring_wakeup_bytes, not on
 * every record while it is above: each forced wake-up queues irq_work, a self-IPI that costs
 * microseconds on a VM (an APIC write traps), and the consumer is already awake after the first. */
static __always_inline __u64 wakeup_flag(__u64 size)
{
	__u64 every = ring_wakeup_bytes;
	if (every == 0)
		return BPF_RB_FORCE_WAKEUP;
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail / every != (avail + size) / every ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void submit(struct scratch_event *s, __u32 captured, __u64 stream_bytes)
{
	if (captured > SOCKEYE_MAX_PAYLOAD)
		captured = SOCKEYE_MAX_PAYLOAD;
	__u64 size = sizeof(struct sockeye_event) + captured;
	if (bpf_ringbuf_output(&events, s, size, wakeup_flag(size))) {
		count(SOCKEYE_CTR_LOST_EVENTS, 1);
		count(SOCKEYE_CTR_LOST_BYTES, stream_bytes);
	} else {
		count(SOCKEYE_CTR_SUBMITTED, 1);
	}
}

static __always_inline __u8 role_from(__u8 dir, __u8 message)
{
	if (message == MSG_UNKNOWN)
		return SOCKEYE_ROLE_UNKNOWN;
	bool sent = dir == SOCKEYE_DIR_EGRESS;
	return (sent == (message == MSG_REQUEST)) ? SOCKEYE_ROLE_CLIENT : SOCKEYE_ROLE_SERVER;
}

/* Reports one piece of stream: protocol verdict, role, offset bookkeeping, ring output. */
static __noinline int report_chunk(struct pending_call *pc, struct chunk *ch, __u64 pid_tgid)
{
	struct conn_state *c = conn_for(pc->sk, pc->ino, pid_tgid >> 32);
	if (!c)
		return 0;
	__u64 *stream_off = ch->dir == SOCKEYE_DIR_EGRESS ? &c->tx_offset : &c->rx_offset;
	__u64 offset = *stream_off;
	*stream_off += ch->len;
	if (c->ignored) { /* became ignored between this call's entry and exit */
		count(SOCKEYE_CTR_UNMATCHED_DATA, 1);
		return 0;
	}
	struct scratch_event *s = scratch_slot();
	if (!s)
		return 0;
	__u8 transport = c->tuple.transport;
	__u32 cap = cap_now();
	__u32 captured;
	const __u8 *p = s->payload;
	if (c->protocol == SOCKEYE_PROTO_UNKNOWN) {
		/* Inference on a short prefix: a connection that never matches costs a 64-byte copy per
		 * attempt, not a full capture. */
		__u32 prefix = cap < INFER_PREFIX ? cap : INFER_PREFIX;
		captured = ch->is_iov ? copy_iovecs(s, ch->src, ch->iovcnt, ch->len, prefix)
				      : copy_part(s, 0, ch->src, ch->len, prefix);
		struct verdict v = infer(p, captured, ch->len, transport);
		if (v.protocol == SOCKEYE_PROTO_UNKNOWN) {
			if (++c->attempts >= MAX_INFER_ATTEMPTS)
				c->ignored = 1;
			count(SOCKEYE_CTR_UNMATCHED_DATA, 1);
			return 0;
		}
		c->protocol = v.protocol;
		if (c->role == SOCKEYE_ROLE_UNKNOWN)
			c->role = role_from(ch->dir, v.message);
	}
	captured = ch->is_iov ? copy_iovecs(s, ch->src, ch->iovcnt, ch->len, cap)
			      : copy_part(s, 0, ch->src, ch->len, cap);
	if (captured > SOCKEYE_MAX_PAYLOAD)
		captured = SOCKEYE_MAX_PAYLOAD;
	if (c->role == SOCKEYE_ROLE_UNKNOWN) {
		c->role = role_from(ch->dir, message_kind(c->protocol, p, captured, ch->len, transport));
	}
	struct sockeye_event *e = &s->ev;
	fill_common(e, c, pid_tgid, pc->fd);
	put_tuple(e, &c->tuple);
	/* Only a datagram socket's peer comes from the call's sockaddr: on TCP the kernel ignores
	 * msg_name / the recvfrom address and leaves the user buffer as it was (stale bytes). */
	if (transport == IPPROTO_UDP)
		remote_from_sockaddr(e, (const void *)ch->name);
	e->kind = SOCKEYE_EV_DATA;
	e->direction = ch->dir;
	e->syscall = pc->syscall;
	e->offset = offset;
	e->total_bytes = ch->len > 0xffffffffULL ? 0xffffffff : ch->len;
	e->captured = captured;
	submit(s, captured, ch->len);
	return 0;
}

/* ---- data syscalls: remember the arguments at entry, report at exit ---- */

static __always_inline void save_pending(struct pending_call *pc)
{
	struct pending_call *slot = bpf_task_storage_get(&pending, bpf_get_current_task_btf(), 0,
							 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!slot) {
		count(SOCKEYE_CTR_ARGS_MAP_FULL, 1);
		return;
	}
	*slot = *pc;
	slot->active = 1;
}

/* Order of the checks: cheapest and most selective first. Most calls on a node are not on sockets,
 * so the fd walk comes before the cgroup filter; a connection inference gave up on stops here,
 * counted, without remembering anything for the exit. */
static __always_inline int data_enter(long fd, __u64 buf, __u64 addr, __u64 count_arg, __u8 sys)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!pid_wanted(id >> 32))
		return 0;
	__u64 ino = 0;
	struct sock *sk = inet_sock_of_fd(fd, &ino);
	if (!sk)
		return 0;
	if (!cgroup_wanted())
		return 0;
	__u64 key = (__u64)sk;
	struct conn_state *c = bpf_map_lookup_elem(&conns, &key);
	if (c && c->ino == ino && c->ignored) {
		count(SOCKEYE_CTR_UNMATCHED_DATA, 1);
		return 0;
	}
	struct pending_call pc = {
		.sk = (__u64)sk, .ino = ino, .buf = buf, .addr = addr,
		.count = count_arg > 0xffffffffULL ? 0xffffffff : count_arg, .fd = fd, .syscall = sys,
	};
	save_pending(&pc);
	return 0;
}

static __always_inline int take_pending(struct pending_call *out, __u64 id)
{
	struct pending_call *pc = bpf_task_storage_get(&pending, bpf_get_current_task_btf(), 0, 0);
	if (!pc || !pc->active)
		return -1;
	*out = *pc;
	pc->active = 0;
	return 0;
}

static __always_inline int data_exit(struct trace_event_raw_sys_exit *ctx, __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_call pc;
	if (take_pending(&pc, id))
		return 0;
	long ret = ctx->ret;
	if (ret <= 0)
		return 0;
	struct chunk ch = { .len = ret, .dir = dir, .src = pc.buf, .name = pc.addr };
	if (pc.syscall == SOCKEYE_SYS_READV || pc.syscall == SOCKEYE_SYS_WRITEV) {
		ch.is_iov = 1;
		ch.iovcnt = pc.count;
	} else if (pc.syscall == SOCKEYE_SYS_SENDMSG || pc.syscall == SOCKEYE_SYS_RECVMSG) {
		struct user_msghdr m;
		if (bpf_probe_read_user(&m, sizeof(m), (const void *)pc.buf))
			return 0;
		ch.is_iov = 1;
		ch.src = (__u64)m.msg_iov;
		ch.iovcnt = m.msg_iovlen;
		ch.name = (__u64)m.msg_name;
	}
	report_chunk(&pc, &ch, id);
	return 0;
}

/* sendmmsg/recvmmsg: ret is the number of messages; each carries its own length. */
static __always_inline int mmsg_exit(struct trace_event_raw_sys_exit *ctx, __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_call pc;
	if (take_pending(&pc, id))
		return 0;
	long ret = ctx->ret;
	for (int i = 0; i < MAX_MMSG; i++) {
		if (i >= ret)
			break;
		struct mmsghdr mh;
		if (bpf_probe_read_user(&mh, sizeof(mh), (const void *)(pc.buf + i * sizeof(struct mmsghdr))))
			break;
		if (mh.msg_len == 0)
			continue;
		struct chunk ch = {
			.src = (__u64)mh.msg_hdr.msg_iov, .iovcnt = mh.msg_hdr.msg_iovlen, .is_iov = 1,
			.len = mh.msg_len, .dir = dir, .name = (__u64)mh.msg_hdr.msg_name,
		};
		report_chunk(&pc, &ch, id);
	}
	return 0;
}

#define ARG(n) (ctx->args[n])

SEC("tracepoint/syscalls/sys_enter_read")
int sockeye_enter_read(struct trace_event_raw_sys_enter *ctx)
{ return data_enter(ARG(0), ARG(1), 0, ARG(2), SOCKEYE_SYS_READ); }
SEC("tracepoint/syscalls/sys_exit_read")
int sockeye_exit_read(struct trace_event_raw_sys_exit *ctx) { return data_exit(ctx, SOCKEYE_DIR_INGRESS); }

SEC("tracepoint/syscalls/sys_enter_write")
int sockeye_enter_write(struct trace_event_raw_sys_enter *ctx)
{ return data_enter(ARG(0), ARG(1), 0, ARG(2), SOCKEYE_SYS_WRITE); }
SEC("tracepoint/syscalls/sys_exit_write")
int sockeye_exit_write(struct trace_event_raw_sys_exit *ctx) { return data_exit(ctx, SOCKEYE_DIR_EGRESS); }

SEC("tracepoint/syscalls/sys_enter_readv")
int sockeye_enter_readv(struct trace_event_raw_sys_enter *ctx)
{ return data_enter(ARG(0), ARG(1), 0, ARG(2), SOCKEYE_SYS_READV); }
SEC("tracepoint/syscalls/sys_exit_readv")
int sockeye_exit_readv(struct trace_event_raw_sys_exit *ctx) { return data_exit(ctx, SOCKEYE_DIR_INGRESS); }

SEC("tracepoint/syscalls/sys_enter_writev")
int sockeye_enter_writev(struct trace_event_raw_sys_enter *ctx)
{ return data_enter(ARG(0), ARG(1), 0, ARG(2), SOCKEYE_SYS_WRITEV); }
SEC("tracepoint/syscalls/sys_exit_writev")
int sockeye_exit_writev(struct trace_event_raw_sys_exit *ctx) { return data_exit(ctx, SOCKEYE_DIR_EGRESS); }

SEC("tracepoint/syscalls/sys_enter_sendto")
int sockeye_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{ return data_enter(ARG(0), ARG(1), ARG(4), ARG(2), SOCKEYE_SYS_SENDTO); }
SEC("tracepoint/syscalls/sys_exit_sendto")
int sockeye_exit_sendto(struct trace_event_raw_sys_exit *ctx) { return data_exit(ctx, SOCKEYE_DIR_EGRESS); }

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int sockeye_enter_recvfrom(struct trace_event_raw_sys_enter *ctx)
{ return data_enter(ARG(0), ARG(1), ARG(4), ARG(2), SOCKEYE_SYS_RECVFROM); }
SEC("tracepoint/syscalls/sys_exit_recvfrom")
int sockeye_exit_recvfrom(struct trace_event_raw_sys_exit *ctx) { return data_exit(ctx, SOCKEYE_DIR_INGRESS); }

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int sockeye_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{ return data_enter(ARG(0), ARG(1), 0, 1, SOCKEYE_SYS_SENDMSG); }
SEC("tracepoint/syscalls/sys_exit_sendmsg")
int sockeye_exit_sendmsg(struct trace_event_raw_sys_exit *ctx) { return data_exit(ctx, SOCKEYE_DIR_EGRESS); }

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int sockeye_enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{ return data_enter(ARG(0), ARG(1), 0, 1, SOCKEYE_SYS_RECVMSG); }
SEC("tracepoint/syscalls/sys_exit_recvmsg")
int sockeye_exit_recvmsg(struct trace_event_raw_sys_exit *ctx) { return data_exit(ctx, SOCKEYE_DIR_INGRESS); }

SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int sockeye_enter_sendmmsg(struct trace_event_raw_sys_enter *ctx)
{ return data_enter(ARG(0), ARG(1), 0, ARG(2), SOCKEYE_SYS_SENDMMSG); }
SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int sockeye_exit_sendmmsg(struct trace_event_raw_sys_exit *ctx) { return mmsg_exit(ctx, SOCKEYE_DIR_EGRESS); }

SEC("tracepoint/syscalls/sys_enter_recvmmsg")
int sockeye_enter_recvmmsg(struct trace_event_raw_sys_enter *ctx)
{ return data_enter(ARG(0), ARG(1), 0, ARG(2), SOCKEYE_SYS_RECVMMSG); }
SEC("tracepoint/syscalls/sys_exit_recvmmsg")
int sockeye_exit_recvmmsg(struct trace_event_raw_sys_exit *ctx) { return mmsg_exit(ctx, SOCKEYE_DIR_INGRESS); }

/* ---- lifecycle ---- */

static __always_inline void report_lifecycle(struct conn_state *c, struct sock *sk, __u64 pid_tgid,
					     __s32 fd, __u8 kind, __u8 sys)
{
	struct scratch_event *s = scratch_slot();
	if (!s)
		return;
	struct sockeye_event *e = &s->ev;
	fill_common(e, c, pid_tgid, fd);
	fill_tuple(e, sk);
	e->kind = kind;
	e->direction = SOCKEYE_DIR_NONE;
	e->syscall = sys;
	e->offset = 0;
	e->total_bytes = 0;
	e->captured = 0;
	submit(s, 0, 0);
}

/* Marks the connection behind fd with a role known for certain and reports it. */
static __always_inline int opened(long fd, __u8 role, __u8 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ino = 0;
	struct sock *sk = inet_sock_of_fd(fd, &ino);
	if (!sk)
		return 0;
	struct conn_state *c = conn_for((__u64)sk, ino, id >> 32);
	if (!c)
		return 0;
	c->role = role;
	report_lifecycle(c, sk, id, fd, kind, SOCKEYE_SYS_NONE);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int sockeye_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!process_wanted(id >> 32))
		return 0;
	struct pending_call pc = { .fd = ARG(0) };
	save_pending(&pc);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int sockeye_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_call pc;
	if (take_pending(&pc, id))
		return 0;
	if (ctx->ret != 0 && ctx->ret != -EINPROGRESS)
		return 0;
	return opened(pc.fd, SOCKEYE_ROLE_CLIENT, SOCKEYE_EV_CONNECT);
}

static __always_inline int accepted(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret < 0 || !process_wanted(bpf_get_current_pid_tgid() >> 32))
		return 0;
	return opened(ctx->ret, SOCKEYE_ROLE_SERVER, SOCKEYE_EV_ACCEPT);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int sockeye_exit_accept(struct trace_event_raw_sys_exit *ctx) { return accepted(ctx); }
SEC("tracepoint/syscalls/sys_exit_accept4")
int sockeye_exit_accept4(struct trace_event_raw_sys_exit *ctx) { return accepted(ctx); }

SEC("tracepoint/syscalls/sys_enter_close")
int sockeye_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!process_wanted(id >> 32))
		return 0;
	__u64 ino = 0;
	struct sock *sk = inet_sock_of_fd(ARG(0), &ino);
	if (!sk)
		return 0;
	__u64 key = (__u64)sk;
	struct conn_state *c = bpf_map_lookup_elem(&conns, &key);
	if (!c || c->ino != ino)
		return 0;
	struct conn_state copy = *c;
	/* Whoever deletes the entry reports the close: never twice for one connection. */
	if (bpf_map_delete_elem(&conns, &key) == 0)
		report_lifecycle(&copy, sk, id, ARG(0), SOCKEYE_EV_CLOSE, SOCKEYE_SYS_CLOSE);
	return 0;
}

/* TCP sockets that end without close() (process exit, kill): release state, report the close.
 * A socket still held by a file is left alone: unread data may follow (TCP_CLOSE is reached when the
 * FINs are exchanged, not when the owner has read everything), and its close() reports it. */
SEC("tracepoint/sock/inet_sock_set_state")
int sockeye_sock_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->newstate != TCP_CLOSE)
		return 0;
	struct sock *sk = (struct sock *)ctx->skaddr;
	struct socket *owner = BPF_CORE_READ(sk, sk_socket);
	if (owner && BPF_CORE_READ(owner, file))
		return 0;
	__u64 key = (__u64)ctx->skaddr;
	struct conn_state *c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return 0;
	struct conn_state copy = *c;
	if (bpf_map_delete_elem(&conns, &key) == 0)
		report_lifecycle(&copy, (struct sock *)ctx->skaddr, ((__u64)copy.pid) << 32 | copy.pid, -1,
				 SOCKEYE_EV_CLOSE, SOCKEYE_SYS_STATE);
	return 0;
}
