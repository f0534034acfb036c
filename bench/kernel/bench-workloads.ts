// The workloads of bench/kernel/bpf-cost.ts. Each runs its processes inside a nested cgroup made for
// the bench (so a cgroup include filter can select them, at a pod-like depth), and is started before
// the measured window: the window holds only the workload's own traffic, not process start-up.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const TIME_LIMIT_MS = 60_000;

/** /sys/fs/cgroup/…/sockeye-bpf-cost/pod/container: the filter marks the top, processes live at the bottom. */
export class BenchCgroup {
  private constructor(readonly top: string, readonly leaf: string, readonly id: bigint, readonly leafId: bigint) {}

  static create(): BenchCgroup {
    const line = readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
    if (!line) throw new Error('bpf-cost needs a cgroup2 hierarchy (for the cgroup-filter figures)');
    const top = join(line.split(' ')[1]!, `sockeye-bpf-cost-${process.pid}`);
    const leaf = join(top, 'pod', 'container');
    mkdirSync(leaf, { recursive: true });
    return new BenchCgroup(top, leaf, BigInt(statSync(top).ino), BigInt(statSync(leaf).ino));
  }

  /** Spawns cmd inside the leaf cgroup (the shell moves itself there, then execs). */
  spawn(cmd: string, args: string[]): ChildProcess {
    const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return spawn('sh', ['-c', `echo $$ > '${this.leaf}/cgroup.procs' && exec ${quoted}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  }

  remove(): void {
    for (const d of [this.leaf, join(this.top, 'pod'), this.top]) { try { rmdirSync(d); } catch { /* still busy: left */ } }
  }
}

export interface Sizes { ddCalls: number; requests: number }
/** The measured window: started() when the workload begins, tick() every windowMs until it ends. */
export interface Window { started(): void; tick(): void; windowMs: number }
export interface Phase {
  name: string;
  /** Requests, calls or syscalls the per-unit figure divides by. */
  units(s: Sizes): number;
  run(cg: BenchCgroup, s: Sizes, w: Window): Promise<void>;
}

async function firstLine(child: ChildProcess): Promise<string> {
  let buf = '';
  while (!buf.includes('\n')) {
    const [d] = await once(child.stdout!, 'data') as [Buffer];
    buf += d.toString();
  }
  return buf.split('\n')[0]!.trim();
}

async function exited(child: ChildProcess, w?: Window): Promise<void> {
  const timer = setTimeout(() => child.kill('SIGKILL'), TIME_LIMIT_MS);
  const ticker = w ? setInterval(() => w.tick(), w.windowMs) : undefined;
  const [code] = await once(child, 'exit') as [number | null];
  clearTimeout(timer);
  clearInterval(ticker);
  if (code !== 0) throw new Error(`bench workload ${child.spawnargs.join(" ").slice(0, 80)} exited with ${code}`);
}

/** A server and a client started in the cgroup; the client waits for "go" on stdin, so only the
 * exchange falls inside the measured window. */
function clientServer(name: string, server: string, client: (port: string, n: number) => string): Phase {
  return {
    name,
    units: (s) => s.requests,
    async run(cg, s, w) {
      const srv = cg.spawn(process.execPath, ['-e', server]);
      try {
        const port = await firstLine(srv);
        const cli = cg.spawn(process.execPath, ['-e', `process.stdin.once('data',()=>{process.stdin.destroy();${client(port, s.requests)}});console.log('ready')`]);
        await firstLine(cli);
        w.started();
        cli.stdin!.write('go\n');
        await exited(cli, w);
      } finally {
        srv.kill('SIGKILL');
      }
    },
  };
}

const http1Server = `const s=require('http').createServer((q,r)=>{q.resume();q.on('end',()=>r.end('hello world'))});
s.listen(0,'127.0.0.1',()=>console.log(s.address().port));`;
const http1Client = (port: string, n: number) => `const http=require('http');const a=new http.Agent({keepAlive:true,maxSockets:1});let i=0;
const go=()=>{if(i++>=${n}){a.destroy();return;}http.get('http://127.0.0.1:${port}/bench',{agent:a},r=>{r.resume();r.on('end',go)})};go();`;

// gRPC framing (5-byte length prefix, application/grpc, grpc-status trailer) over node:http2.
const grpcServer = `const h2=require('http2');const s=h2.createServer();s.on('stream',(st)=>{st.on('data',()=>{});st.on('end',()=>{
st.respond({':status':200,'content-type':'application/grpc'},{waitForTrailers:true});st.on('wantTrailers',()=>st.sendTrailers({'grpc-status':'0'}));
st.end(Buffer.from([0,0,0,0,5,10,3,104,105,33]))})});s.listen(0,'127.0.0.1',()=>console.log(s.address().port));`;
const grpcClient = (port: string, n: number) => `const h2=require('http2');const c=h2.connect('http://127.0.0.1:${port}');let i=0;
const msg=Buffer.from([0,0,0,0,7,10,5,119,111,114,108,100]);
const go=()=>{if(i++>=${n}){c.close();return;}const r=c.request({':method':'POST',':path':'/demo.v1.Greeter/SayHello','content-type':'application/grpc','te':'trailers'});
r.on('data',()=>{});r.on('end',go);r.end(msg)};go();`;

// A protocol sockeye does not know: 64 binary bytes each way (the first byte is no HTTP method,
// and the bytes fail the DNS header checks).
const tcpServer = `const s=require('net').createServer((c)=>c.on('data',(d)=>c.write(d)));s.listen(0,'127.0.0.1',()=>console.log(s.address().port));`;
const tcpClient = (port: string, n: number) => `const c=require('net').connect(${port},'127.0.0.1');const m=Buffer.alloc(64,0xab);let i=0;
c.on('data',()=>{if(++i>=${n})c.end();else c.write(m)});c.on('connect',()=>c.write(m));`;
const udpServer = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(0,'127.0.0.1',()=>console.log(s.address().port));`;
const udpClient = (port: string, n: number) => `const c=require('dgram').createSocket('udp4');const m=Buffer.alloc(64,0xab);let i=0;
c.on('message',()=>{if(++i>=${n})c.close();else c.send(m,${port},'127.0.0.1')});c.send(m,${port},'127.0.0.1');`;

export const PHASES: Phase[] = [
  {
    name: 'dd',
    units: (s) => s.ddCalls,
    async run(cg, s, w) {
      w.started();
      await exited(cg.spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=64', `count=${s.ddCalls / 2}`, 'status=none']), w);
    },
  },
  clientServer('http1', http1Server, http1Client),
  clientServer('grpc', grpcServer, grpcClient),
  clientServer('tcp-other', tcpServer, tcpClient),
  clientServer('udp-other', udpServer, udpClient),
];
