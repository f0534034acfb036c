// Starting the exec table with the agent: when the kernel cannot run it (no tracefs for the
// sched tracepoints, not permitted) the agent says so in one line and identifies processes from
// /proc alone (a process gone before it was read is then named from its comm).
import type { ExecTable } from './exec-table.js';

export async function startExecTable(log: (line: string) => void): Promise<ExecTable | undefined> {
  try {
    const { ExecTable } = await import('./exec-table.js');
    const table = ExecTable.open();
    const missing = table.missing;
    log(`process executables from exec on${missing.length ? `, without: ${missing.join('; ')}` : ''}`);
    return table;
  } catch (e) {
    log(`process executables from exec off: this kernel cannot run it (${String((e as Error).message).split('\n')[0]}); identifying processes from /proc alone`);
    return undefined;
  }
}
