/* fd -> struct sock through task_struct->files->fdt with CO-RE; non-sockets bail out first. */
#ifndef SOCKEYE_SOCKET_LOOKUP_H
#define SOCKEYE_SOCKET_LOOKUP_H

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

/* Kernel pointers read as plain loads: the verifier marks a cast pointer untrusted and the JIT emits
 * fault-tolerant loads, ~1 ns each instead of a bpf_probe_read_kernel helper call per hop (~20 ns;
 * bench/kernel/bpf-cost.ts measured the fd walk dropping from ~100 to ~30 ns). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define KCAST(type, ptr) ((type *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(type)))

/* Returns the sock behind fd when it is an IPv4/IPv6 socket, else NULL. *ino receives the socket
 * inode number (the identity check for reused sock addresses). */
static __always_inline struct sock *inet_sock_of_fd(int fd, __u64 *ino)
{
	if (fd < 0)
		return NULL;
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	if ((unsigned int)fd >= fdt->max_fds)
		return NULL;
	struct file *raw = NULL;
	if (fd_slot_probe_read) {
		/* Fallback (6.12's verifier types fdt->fd as a scalar and refuses the plain load): one
		 * helper call. The loader sets this only when the fast path does not load. */
		bpf_probe_read_kernel(&raw, sizeof(raw), (const void *)((unsigned long)fdt->fd + (unsigned int)fd * sizeof(raw)));
	} else {
		/* 6.18's verifier types fdt->fd as read-only untrusted memory: the slot is a
		 * fault-tolerant load too, and what it yields is a plain number until cast. */
		struct file **fds = fdt->fd;
		raw = fds[fd];
	}
	if (!raw)
		return NULL;
	struct file *f = KCAST(struct file, raw);
	struct inode *inode = f->f_inode;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *sock = KCAST(struct socket, f->private_data);
	struct sock *sk = sock->sk;
	if (!sk)
		return NULL;
	__u16 family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	*ino = inode->i_ino;
	return sk;
}

static __always_inline bool is_v4_mapped(const __u8 *a)
{
	return a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0 && a[4] == 0 && a[5] == 0 &&
	       a[6] == 0 && a[7] == 0 && a[8] == 0 && a[9] == 0 && a[10] == 0xff && a[11] == 0xff;
}

/* Reads the tuple, transport and netns of a sock. */
static __always_inline void read_tuple(struct conn_tuple *t, struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	t->transport = BPF_CORE_READ(sk, sk_protocol);
	t->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	t->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	__builtin_memset(t->local_addr, 0, 32);
	if (family == AF_INET) {
		t->family = 4;
		bpf_core_read(t->local_addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(t->remote_addr, 4, &sk->__sk_common.skc_daddr);
	} else {
		t->family = 6;
		bpf_core_read(t->local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(t->remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

static __always_inline void put_tuple(struct sockeye_event *e, const struct conn_tuple *t)
{
	__builtin_memcpy(e->local_addr, t->local_addr, 16);
	__builtin_memcpy(e->remote_addr, t->remote_addr, 16);
	e->netns = t->netns;
	e->local_port = t->local_port;
	e->remote_port = t->remote_port;
	e->family = t->family;
	e->transport = t->transport;
}

/* Fills an event's tuple straight from the sock (lifecycle events: rare, and the sock may change). */
static __always_inline void fill_tuple(struct sockeye_event *e, struct sock *sk)
{
	struct conn_tuple t;
	read_tuple(&t, sk);
	put_tuple(e, &t);
}

/* Overrides the remote end from a user sockaddr (unconnected UDP: sendto/recvfrom/msg_name). */
static __always_inline void remote_from_sockaddr(struct sockeye_event *e, const void *uaddr)
{
	if (!uaddr)
		return;
	struct sockaddr_in6 sa = {};
	if (bpf_probe_read_user(&sa, sizeof(sa), uaddr))
		return;
	if (sa.sin6_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
		if (s4->sin_port == 0)
			return;
		e->remote_port = bpf_ntohs(s4->sin_port);
		__builtin_memset(e->remote_addr, 0, 16);
		__builtin_memcpy(e->remote_addr, &s4->sin_addr, 4);
		if (e->family == 6 && is_v4_mapped(e->local_addr)) {
			/* leave family at 6: userspace prints v4-mapped as plain IPv4 */
			__builtin_memset(e->remote_addr, 0, 16);
			e->remote_addr[10] = 0xff;
			e->remote_addr[11] = 0xff;
			__builtin_memcpy(e->remote_addr + 12, &s4->sin_addr, 4);
		}
	} else if (sa.sin6_family == AF_INET6) {
		if (sa.sin6_port == 0)
			return;
		e->remote_port = bpf_ntohs(sa.sin6_port);
		__builtin_memcpy(e->remote_addr, &sa.sin6_addr, 16);
	}
}

#endif
