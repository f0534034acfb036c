// SPDX-License-Identifier: GPL-2.0
/* Empty programs on the same tracepoints as sockeye's data capture. bench/kernel/bpf-cost.ts
 * measures them on each workload to show the fixed cost every program pays there (dispatch +
 * bpf_stats' own clock reads; it differs per workload: a busy process's caches are colder than dd's),
 * next to the capture's figures. Never loaded by the agent. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define FLOOR(name) \
	SEC("tracepoint/syscalls/sys_enter_" #name) int sockeye_floor_enter_##name(void *ctx) { return 0; } \
	SEC("tracepoint/syscalls/sys_exit_" #name) int sockeye_floor_exit_##name(void *ctx) { return 0; }
FLOOR(read) FLOOR(write) FLOOR(readv) FLOOR(writev) FLOOR(sendto) FLOOR(recvfrom)
FLOOR(sendmsg) FLOOR(recvmsg) FLOOR(sendmmsg) FLOOR(recvmmsg)
