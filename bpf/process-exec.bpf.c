// SPDX-License-Identifier: GPL-2.0
/* sockeye process identity: the executable of every process, written once per exec (never per
 * network event) into a table keyed by tgid that the agent reads the first time it sees a
 * process. A client that lives 5 ms is gone from /proc before its transaction is built; its
 * exec is not. Loaded by agent/process-exec/exec-table.ts. Entry layout: process-exec.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "process-exec.h"

char LICENSE[] SEC("license") = "GPL";

/* Keeps the entry and its flags in BTF (test/process-exec/exec-table.test.ts reads them). */
struct pe_layout {
	struct pe_entry entry;
	enum pe_flag flag;
};
struct pe_layout *pe_layout_for_btf;

/* LRU: exited processes are not deleted at exit (their last events may still be in the capture
 * ring, waiting to be identified); they are marked with exit_ns and go when the table needs room. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct pe_entry);
} pe_procs SEC(".maps");

/* Room to build an entry: it is larger than is comfortable on the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pe_entry);
} pe_scratch SEC(".maps");

SEC("tp/sched/sched_process_exec")
int pe_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 zero = 0;
	struct pe_entry *e = bpf_map_lookup_elem(&pe_scratch, &zero);
	if (!e)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	/* __data_loc: low 16 bits are the string's offset from the record's start. */
	__u16 off = ctx->__data_loc_filename & 0xffff;
	long n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + off);
	if (n <= 0)
		return 0;
	e->start_ns = bpf_ktime_get_boot_ns();
	e->exit_ns = 0;
	e->flags = n >= (long)sizeof(e->filename) ? PE_F_TRUNCATED : 0;
	e->pad = 0;
	bpf_map_update_elem(&pe_procs, &tgid, e, BPF_ANY);
	return 0;
}

/* A new process (not a thread) inherits its parent's executable until it execs itself: a forked
 * worker that serves one request and exits is named like its parent. tp_btf: the child task is
 * an argument (the classic tracepoint has only its pid, and cannot tell a thread from a process). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(pe_fork, struct task_struct *parent, struct task_struct *child)
{
	if (child->pid != child->tgid)
		return 0; /* a thread */
	__u32 ptgid = parent->tgid;
	struct pe_entry *p = bpf_map_lookup_elem(&pe_procs, &ptgid);
	if (!p)
		return 0;
	__u32 zero = 0;
	struct pe_entry *e = bpf_map_lookup_elem(&pe_scratch, &zero);
	if (!e)
		return 0;
	__builtin_memcpy(e, p, sizeof(*e));
	e->start_ns = bpf_ktime_get_boot_ns();
	e->exit_ns = 0;
	e->flags |= PE_F_FORKED;
	__u32 tgid = child->tgid;
	bpf_map_update_elem(&pe_procs, &tgid, e, BPF_ANY);
	return 0;
}

/* Runs for every exiting thread; only the last one of a process (signal->live reached 0 before
 * this tracepoint) marks the process gone. */
SEC("tp/sched/sched_process_exit")
int pe_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pe_entry *e = bpf_map_lookup_elem(&pe_procs, &tgid);
	if (e)
		e->exit_ns = bpf_ktime_get_boot_ns();
	return 0;
}
