// The real `sockeye agent` on this kernel: network health is on by default, says so in its log,
// and a refused connect (curl to a closed loopback port) shows on /metrics under the Prometheus
// names; `network_health.enabled: false` turns it off with one log line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { AgentChild, freePort, kernelAgentUnavailable } from '../agent/helpers/agent-child.js';

const skip = kernelAgentUnavailable();
const yaml = (extra: string) => (listen: string) => `listen: ${listen}\nexport:\n  enabled: false\nconntrack:\n  enabled: false\nlive_view: off\n${extra}`;

test('the agent serves sockeye_tcp_* on /metrics: a refused connect by curl', { skip }, async () => {
  const agent = await AgentChild.start(yaml(''));
  try {
    assert.match(agent.stderr, /TCP network health on/);
    const port = await freePort(); // nobody listens there now
    const curl = spawnSync('curl', ['-s', '-m', '3', `http://127.0.0.1:${port}/`]);
    assert.equal(curl.status, 7, 'curl: connection refused');
    const re = new RegExp(`^sockeye_tcp_connect_duration_seconds_count\\{service_name="curl",server_address="127\\.0\\.0\\.1",server_port="${port}",error_type="connection_refused"\\} 1$`, 'm');
    let text = '';
    for (const end = Date.now() + 5000; Date.now() < end && !re.test(text);) {
      await new Promise((r) => setTimeout(r, 150)); // the ring is drained every 100 ms
      text = await agent.metrics();
    }
    assert.match(text, re);
    assert.match(text, new RegExp(`^sockeye_tcp_resets_total\\{service_name="curl",sockeye_tcp_role="client",server_address="127\\.0\\.0\\.1",server_port="${port}",sockeye_tcp_reset_direction="received",sockeye_tcp_state="syn_sent"\\} 1$`, 'm'));
    assert.match(text, /^sockeye_tcp_capture\{counter="lost"\} 0$/m);
  } finally {
    assert.equal(await agent.stop(), 0);
  }
});

test('network_health.enabled: false: one log line, no sockeye_tcp_* families', { skip }, async () => {
  const agent = await AgentChild.start(yaml('network_health:\n  enabled: false\n'));
  try {
    assert.match(agent.stderr, /TCP network health disabled \(network_health\.enabled: false\)/);
    assert.doesNotMatch(await agent.metrics(), /^sockeye_tcp_/m);
  } finally {
    await agent.stop();
  }
});
