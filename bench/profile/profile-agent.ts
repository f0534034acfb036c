// Runs `sockeye agent` in this process and CPU-profiles it once it is ready. `node --cpu-prof`
// cannot be used for the agent: its sampling signals interrupt the BPF verifier during load
// (BPF_PROG_LOAD returns EAGAIN when a signal is pending), so profiling starts after load here.
//   node dist/bench/profile/profile-agent.js OUT.cpuprofile SECONDS -- <sockeye agent flags>
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { main } from '../../cli/main.js';

const [out, secondsArg, sep, ...agentArgs] = process.argv.slice(2);
if (!out || !secondsArg || sep !== '--') {
  console.error('usage: profile-agent OUT.cpuprofile SECONDS -- <sockeye agent flags incl. --listen HOST:PORT>');
  process.exit(2);
}
const listen = agentArgs[agentArgs.indexOf('--listen') + 1] ?? '127.0.0.1:9464';
const ready = () => new Promise<boolean>((resolve) => {
  get(`http://${listen}/readyz`, (r) => { r.resume(); resolve(r.statusCode === 200); }).on('error', () => resolve(false));
});

const agentDone = main(['agent', ...agentArgs]);
while (!(await ready())) await new Promise((r) => setTimeout(r, 100));
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 500 });
await session.post('Profiler.start');
process.stderr.write(`profile-agent: profiling for ${secondsArg} s\n`);
await new Promise((r) => setTimeout(r, Number(secondsArg) * 1000));
const { profile } = await session.post('Profiler.stop');
writeFileSync(out, JSON.stringify(profile));
process.stderr.write(`profile-agent: wrote ${out}\n`);
process.kill(process.pid, 'SIGTERM');
process.exitCode = await agentDone;
