// SPDX-License-Identifier: GPL-2.0
/* Empty programs on the same tracepoints as sockeye's read/write capture. bench/kernel/bpf-cost.ts
 * measures them to show the fixed cost every program pays (dispatch + bpf_stats' own clock reads),
 * next to the capture's figures. Never loaded by the agent. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_read")
int sockeye_floor_enter_read(void *ctx) { return 0; }
SEC("tracepoint/syscalls/sys_exit_read")
int sockeye_floor_exit_read(void *ctx) { return 0; }
SEC("tracepoint/syscalls/sys_enter_write")
int sockeye_floor_enter_write(void *ctx) { return 0; }
SEC("tracepoint/syscalls/sys_exit_write")
int sockeye_floor_exit_write(void *ctx) { return 0; }
