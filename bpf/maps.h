/* Maps and load-time configuration shared by the sockeye programs. */
#ifndef SOCKEYE_MAPS_H
#define SOCKEYE_MAPS_H

#include "event-layout.h"

/* Set by the loader before load (libbpf rodata); the verifier prunes disabled branches. */
const volatile __u32 payload_cap = SOCKEYE_DEFAULT_PAYLOAD;
/* Wake the consumer only once this many bytes wait in the ring; it also drains on a timer. */
const volatile __u64 ring_wakeup_bytes = 64 * 1024;
const volatile __u32 self_pid = 0;              /* the agent: never traced */
const volatile bool filter_pids_include = false;   /* trace only pids marked 1 in pid_filter */
const volatile bool filter_pids_exclude = false;   /* skip pids marked 2 in pid_filter */
const volatile bool filter_cgroups_include = false;
const volatile bool filter_cgroups_exclude = false;
/* Load-time fallback: read the fd table slot with bpf_probe_read_kernel (socket-lookup.h). */
const volatile bool fd_slot_probe_read = false;

/* Per-connection state, keyed by the struct sock address. The socket inode guards against a
 * freed sock being reused for a new socket while a stale entry survives (LRU evicts leftovers). */
/* A socket's 4-tuple as reported in events (copied from the sock once per connection). */
struct conn_tuple {
	__u8 local_addr[16];
	__u8 remote_addr[16];
	__u32 netns;
	__u16 local_port;
	__u16 remote_port;
	__u8 family;
	__u8 transport;
};

struct conn_state {
	struct conn_tuple tuple; /* cached: reading it from the sock on every event costs ~0.4 us */
	__u64 conn_id;
	__u64 ino;
	__u64 tx_offset;
	__u64 rx_offset;
	__u32 pid;
	__u8 role;
	__u8 protocol;
	__u8 attempts;  /* data syscalls inspected without a protocol verdict */
	__u8 ignored;   /* no protocol matched within MAX_INFER_ATTEMPTS: ship nothing (checked at entry) */
};

/* Syscall arguments remembered from enter to exit, keyed by pid_tgid. */
struct pending_call {
	__u64 sk;
	__u64 ino;
	__u64 buf;    /* buffer, iovec array, msghdr or mmsghdr array (by syscall) */
	__u64 addr;   /* sendto/recvfrom peer sockaddr */
	__u32 count;  /* iovcnt / vlen */
	__s32 fd;
	__u8 syscall;
	__u8 active;  /* set at entry, cleared when the exit consumed it */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct conn_state);
} conns SEC(".maps");

/* Task-local storage, not a hash keyed by tid: the exit programs run on every read/write on the
 * node, and a miss here is a pointer check instead of a hash lookup (bench/kernel/bpf-cost.ts). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending_call);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOCKEYE_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* One event under construction per CPU; twice the payload so masked variable offsets verify. */
struct scratch_event {
	struct sockeye_event ev;
	__u8 payload[2 * SOCKEYE_MAX_PAYLOAD];
};

/* Indexed by CPU id: a plain array because a per-CPU value may not exceed 32 KiB. The loader sizes
 * it to the number of possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct scratch_event);
} scratch SEC(".maps");

static __always_inline struct scratch_event *scratch_slot(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&scratch, &cpu);
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} cgroup_filter SEC(".maps");

__u64 next_conn_id = 0;

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		*v += n;
}

#define MAX_CGROUP_DEPTH 16

/* The filter mark of the current task's cgroup or of its nearest marked ancestor: a filter on a
 * cgroup covers everything below it (a pod's cgroup covers its containers, a slice its services). */
static __always_inline __u8 cgroup_mark(void)
{
	__u8 found = 0;
	for (int level = 0; level < MAX_CGROUP_DEPTH; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		if (id == 0)
			break;
		__u8 *m = bpf_map_lookup_elem(&cgroup_filter, &id);
		if (m)
			found = *m;
	}
	return found;
}

/* The cgroup filters' verdict per cgroup id (marks are set before attach and never change, and
 * cgroup v2 ids are not reused): one lookup instead of the ancestor walk on every traced call. */
#define CGROUP_WANTED 1
#define CGROUP_UNWANTED 2
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} cgroup_verdicts SEC(".maps");

/* The first check of every program: is this process one we trace at all? (cheap: pid only) */
static __always_inline bool pid_wanted(__u32 tgid)
{
	if (tgid == self_pid)
		return false;
	if (filter_pids_include || filter_pids_exclude) {
		__u8 *mark = bpf_map_lookup_elem(&pid_filter, &tgid);
		if (filter_pids_include && (!mark || *mark != SOCKEYE_FILTER_INCLUDE))
			return false;
		if (filter_pids_exclude && mark && *mark == SOCKEYE_FILTER_EXCLUDE)
			return false;
	}
	return true;
}

/* The cgroup filters, checked after the socket check (most calls on a node are not on sockets). */
static __always_inline bool cgroup_wanted(void)
{
	if (!filter_cgroups_include && !filter_cgroups_exclude)
		return true;
	__u64 id = bpf_get_current_cgroup_id();
	__u8 *cached = bpf_map_lookup_elem(&cgroup_verdicts, &id);
	if (cached)
		return *cached == CGROUP_WANTED;
	__u8 mark = cgroup_mark();
	bool wanted = !(filter_cgroups_include && mark != SOCKEYE_FILTER_INCLUDE) &&
		      !(filter_cgroups_exclude && mark == SOCKEYE_FILTER_EXCLUDE);
	__u8 verdict = wanted ? CGROUP_WANTED : CGROUP_UNWANTED;
	bpf_map_update_elem(&cgroup_verdicts, &id, &verdict, BPF_ANY);
	return wanted;
}

static __always_inline bool process_wanted(__u32 tgid)
{
	return pid_wanted(tgid) && cgroup_wanted();
}

#endif
