// Many short connections must not leave per-connection bookkeeping behind until an idle expiry:
// each connection's exchange counter in the peer linker goes when the engine reports the close.
// Real engine and signal pipeline, fed the capture events of 2,000 keep-alive-less HTTP/1.1
// connections seen from both ends (client and server on this node), as the kernel reports them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { EventScript } from '../protocols/helpers/engine-event-script.js';

const CONNECTIONS = 2000;

test(`${CONNECTIONS} short connections: the peer linker holds nothing for them once they closed`, async () => {
  const telemetry = new TelemetryRegistry();
  let spans = 0;
  const pipeline = new SignalPipeline({ telemetry, clock: fromEpoch(1_700_000_000, 0), linkWaitMs: 300, onSpan: () => spans++ });
  const engine = new ProtocolEngine(undefined, (tx) => pipeline.onTransaction(tx), undefined, (id) => pipeline.connectionClosed(id));
  const gauge = () => Number(/^sockeye_peer_linker_connections (\d+)$/m.exec(telemetry.render())?.[1]);
  for (let i = 0; i < CONNECTIONS; i++) {
    for (const role of ['client', 'server'] as const) {
      const s = new EventScript(2 * i + (role === 'client' ? 1 : 2), role, 'http1');
      const out = role === 'client' ? 'egress' : 'ingress';
      const back = role === 'client' ? 'ingress' : 'egress';
      s.data(out, `GET /item/${i} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`).data(back, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok').close();
      // Each connection its own ephemeral port, both ends mirrored (so the linker pairs them).
      const port = 20000 + i;
      const tuple = role === 'client'
        ? { family: 4 as const, transport: 'tcp' as const, localAddr: '127.0.0.1', localPort: port, remoteAddr: '127.0.0.1', remotePort: 8080 }
        : { family: 4 as const, transport: 'tcp' as const, localAddr: '127.0.0.1', localPort: 8080, remoteAddr: '127.0.0.1', remotePort: port };
      engine.push(s.events.map((e) => ({ ...e, tuple })));
    }
    if (i === 0) assert.equal(gauge(), 0, 'the first connection pair was freed on close');
  }
  pipeline.tick();
  assert.equal(engine.openConnections, 0);
  assert.equal(gauge(), 0, 'no per-connection entries left (they used to wait 60 s)');
  await pipeline.flush();
  assert.equal(spans, 2 * CONNECTIONS, 'every exchange still became a span');
  assert.ok(Number(/^sockeye_spans_linked_total (\d+)$/m.exec(telemetry.render())?.[1]) >= CONNECTIONS - 1, 'and the two ends were still linked');
  await pipeline.shutdown();
});
