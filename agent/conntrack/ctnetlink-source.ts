// Where ctnetlink datagrams come from. In the agent's own network namespace (hostNetwork: the node's)
// it opens netlink sockets in-process through the `netlink` package's prebuilt binding. For another
// namespace (`netnsPath`, e.g. tests, or an agent not on hostNetwork) a netlink socket must be
// created inside it, which a Node thread cannot do (setns is per thread, libuv owns ours), so a small
// relay process is started there with nsenter and streams the datagrams back over a pipe.
import { createRequire } from 'node:module';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CT_GROUPS, NETLINK_NETFILTER, encodeDumpRequest } from './ctnetlink-codec.js';

export type Channel = 'events' | 'dump';

export interface CtnetlinkHandlers {
  datagram(channel: Channel, buf: Buffer): void;
  /** Socket errors; ENOBUFS means the kernel dropped events because we read too slowly. */
  error(err: Error & { code?: string }): void;
  /** The source stopped for good (the relay process died). */
  exited?(): void;
}

export interface CtnetlinkSource {
  /** Sends a fresh dump request (after ENOBUFS, to resynchronise). */
  redump(): void;
  close(): void;
}

interface RawSocket {
  on(ev: 'message', f: (msg: Buffer) => void): void;
  on(ev: 'error', f: (err: Error & { code?: string }) => void): void;
  send(msg: Uint8Array, opts?: object, cb?: (err?: Error) => void): void;
  addMembership(group: number): void;
  setRecvBufferSize(n: number): void;
  address(): { port: number };
  unref(): void;
  close(): void;
}
interface NetlinkModule { RawNetlinkSocket: new (protocol: number, opts?: object) => RawSocket }

const RECV_BUFFER = 8 * 1024 * 1024;

let netlinkModule: NetlinkModule | undefined;
function loadNetlink(): NetlinkModule {
  // The package's own .d.ts pulls in an old @types/node; we type the few calls we make ourselves.
  netlinkModule ??= createRequire(import.meta.url)('netlink') as NetlinkModule;
  return netlinkModule;
}

/** Opens the event socket (subscribed to NEW/UPDATE/DESTROY first, so nothing falls between) and dumps. */
export function openInProcess(h: CtnetlinkHandlers): CtnetlinkSource {
  const { RawNetlinkSocket } = loadNetlink();
  const events = new RawNetlinkSocket(NETLINK_NETFILTER, { messagePeeking: true });
  try { events.setRecvBufferSize(RECV_BUFFER); } catch { /* capped by net.core.rmem_max: keep the default */ }
  for (const g of Object.values(CT_GROUPS)) events.addMembership(g);
  events.on('message', (m) => h.datagram('events', m));
  events.on('error', (e) => h.error(e));
  let dump: RawSocket | undefined;
  let seq = 1;
  const redump = () => {
    dump?.close();
    const d = new RawNetlinkSocket(NETLINK_NETFILTER, { messagePeeking: true });
    dump = d;
    d.on('message', (m) => h.datagram('dump', m));
    d.on('error', (e) => h.error(e));
    d.send(encodeDumpRequest(seq++, d.address().port), {}, (err) => { if (err) h.error(err); });
  };
  redump();
  return {
    redump,
    close() { events.close(); dump?.close(); dump = undefined; },
  };
}

// Relay framing on the pipe: u8 channel (0 events, 1 dump, 2 error text), u32le length, bytes.
// Parent → relay: one byte 'r' asks for a fresh dump.
export function openInNamespace(netnsPath: string, h: CtnetlinkHandlers): CtnetlinkSource {
  const relay = fileURLToPath(new URL('./ctnetlink-relay.js', import.meta.url));
  const child: ChildProcess = spawn('nsenter', [`--net=${netnsPath}`, '--', process.execPath, relay], { stdio: ['pipe', 'pipe', 'pipe'] });
  let pending: Buffer = Buffer.alloc(0);
  let closed = false;
  child.stdout!.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let off = 0;
    while (pending.length - off >= 5) {
      const len = pending.readUInt32LE(off + 1);
      if (pending.length - off - 5 < len) break;
      const ch = pending[off]!;
      const body = pending.subarray(off + 5, off + 5 + len);
      if (ch === 2) h.error(Object.assign(new Error(body.toString()), { code: body.toString().split(':')[0] }));
      else h.datagram(ch === 0 ? 'events' : 'dump', Buffer.from(body));
      off += 5 + len;
    }
    pending = pending.subarray(off);
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-2000); });
  child.on('error', (e) => h.error(e));
  child.on('exit', (code) => { if (!closed) h.exited?.(); if (!closed) h.error(new Error(`conntrack relay in ${netnsPath} exited (${code}): ${stderr.trim()}`)); });
  return {
    redump() { child.stdin!.write('r'); },
    // SIGKILL: the relay holds no state worth flushing, and it must not outlive us.
    close() { closed = true; child.stdin!.destroy(); child.stdout!.destroy(); child.stderr!.destroy(); child.kill('SIGKILL'); },
  };
}
