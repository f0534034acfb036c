// SPDX-License-Identifier: GPL-2.0
/* Counts the data syscalls made by the processes of one cgroup (the benchmark's workload):
 * bench/kernel/bpf-cost.ts divides sockeye's BPF time by this exact count, so the syscalls other
 * processes on the machine make meanwhile do not dilute the per-syscall figure. Never loaded by the agent. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 workload_cgroup = 0;
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} workload_calls SEC(".maps");

static __always_inline int count_call(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&workload_calls, &zero);
	if (n && bpf_get_current_cgroup_id() == workload_cgroup)
		__sync_fetch_and_add(n, 1);
	return 0;
}

#define COUNT(name) \
	SEC("tracepoint/syscalls/sys_enter_" #name) int count_##name(void *ctx) { return count_call(); }
COUNT(read) COUNT(write) COUNT(readv) COUNT(writev) COUNT(sendto) COUNT(recvfrom)
COUNT(sendmsg) COUNT(recvmsg) COUNT(sendmmsg) COUNT(recvmmsg)
