// The typed events the kernel capture hands to the rest of the agent. This is the contract between
// capture (bpf/ + agent/native/ + agent/capture/) and the protocol engine (agent/protocols/).
// The byte layout behind these objects is defined once in bpf/ and decoded in agent/capture/.

/** egress: the traced process sent these bytes; ingress: it received them. */
export type Direction = 'egress' | 'ingress';

/** Who opened the connection, from the traced process's point of view. */
export type Role = 'client' | 'server' | 'unknown';

/** The kernel's protocol verdict for a connection (remembered per connection in the kernel). */
export type L7Protocol = 'http1' | 'http2' | 'dns' | 'unknown';

export type Transport = 'tcp' | 'udp';

export interface SocketTuple {
  family: 4 | 6;
  transport: Transport;
  /** Textual address; IPv4-mapped IPv6 addresses are reported as plain IPv4. */
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
}

export interface ProcessInfo {
  pid: number; // tgid
  tid: number;
  /** The process's name (its thread-group leader's comm), never a thread's own name. */
  comm: string;
  cgroupId: bigint;
  /** Inode number of the network namespace the socket lives in. */
  netns: number;
}

interface EventBase {
  /** Nanoseconds since boot (CLOCK_BOOTTIME), from the kernel. */
  tsNs: number;
  /** Stable for the life of the connection on this node; never reused while the agent runs. */
  connId: number;
  fd: number;
  process: ProcessInfo;
  tuple: SocketTuple;
  role: Role;
  protocol: L7Protocol;
}

export interface DataEvent extends EventBase {
  kind: 'data';
  direction: Direction;
  /** The syscall that moved the bytes (read, writev, sendmsg, ...). */
  syscall: string;
  /** Captured prefix of the bytes moved (at most the configured cap). */
  bytes: Uint8Array;
  /** True number of bytes the syscall moved; > bytes.length when the copy was capped. */
  totalBytes: number;
  /** Byte offset of this chunk in its direction's stream (counts bytes of lost events too). */
  offset: number;
}

/** Bytes of a connection's stream that userspace will never see (lost events, missed capture). */
export interface GapEvent extends EventBase {
  kind: 'gap';
  direction: Direction;
  /** How many stream bytes are missing before the next DataEvent in this direction. */
  lostBytes: number;
}

export interface ConnectEvent extends EventBase {
  kind: 'connect' | 'accept';
}

export interface CloseEvent extends EventBase {
  kind: 'close';
}

export type CaptureEvent = DataEvent | GapEvent | ConnectEvent | CloseEvent;

/** Kernel-side and transport counters, read on demand. Every loss is counted somewhere here. */
export interface CaptureCounters {
  /** Events the kernel could not reserve ring-buffer space for (summed over CPUs). */
  lostEvents: number;
  /** Events delivered to userspace. */
  events: number;
  /** Events userspace could not decode. */
  decodeErrors: number;
  [name: string]: number;
}
