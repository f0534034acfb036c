/* SPDX-License-Identifier: GPL-2.0 */
/* One process's executable, as bpf/process-exec.bpf.c keeps it per tgid. Read by
 * agent/process-exec/exec-table.ts (offsets checked against the object's BTF by its test).
 * No bitfields, explicit padding. */
#ifndef SOCKEYE_PROCESS_EXEC_H
#define SOCKEYE_PROCESS_EXEC_H

#define PE_FILENAME_LEN 256

enum pe_flag {
	PE_F_TRUNCATED = 1, /* the filename filled the buffer: it is cut, so not a usable path */
	PE_F_FORKED = 2,    /* inherited from the parent at fork (no exec of its own yet) */
};

struct pe_entry {
	__u64 start_ns; /* boot-clock ns of the exec (or of the fork, for PE_F_FORKED) */
	__u64 exit_ns;  /* boot-clock ns when its last thread exited; 0 while it runs */
	__u32 flags;    /* enum pe_flag */
	__u32 pad;
	char filename[PE_FILENAME_LEN]; /* as given to execve: absolute when resolved through PATH */
};

#endif
