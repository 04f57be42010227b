import { afterEach, describe, expect, it } from 'vitest';
import { Node } from '../../src/cni/node.js';
import { unregisterPlugin } from '../../src/cni/registry.js';
import { runUntilDone, tcpConnect } from '../../src/index.js';
import { enableNetfilter } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { registerTestPtp, sh } from './helpers.js';

function conflist(portmap: Record<string, unknown> = {}): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'testnet',
    plugins: [{ type: 'test-ptp' }, { type: 'portmap', capabilities: { portMappings: true }, ...portmap }],
  });
}

function cluster(portmap: Record<string, unknown> = {}) {
  const k = new Kernel({ seed: 3 });
  enableNetfilter(k);
  sh(
    k,
    `ip netns add node
ip netns add client
ip link add c0 netns client type veth peer name eth0 netns node
ip -n node addr add 192.168.1.10/24 dev eth0
ip -n node link set eth0 up
ip -n node link set lo up
ip -n client addr add 192.168.1.20/24 dev c0
ip -n client link set c0 up
ip netns exec node sysctl -w net.ipv4.ip_forward=1`,
  );
  registerTestPtp();
  const node = new Node(k, 'node');
  node.writeConfig('10-testnet.conflist', conflist(portmap));
  const pod = node.addPod('web', {
    args: { IP: '10.1.0.2' },
    capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
  });
  const listener = pod.netns.sockets.listen('tcp', 80, new TextEncoder().encode('hello from web'));
  return { k, node, pod, listener, client: k.netns('client'), host: k.netns('node') };
}

const HOST_IP = parseIpv4('192.168.1.10')!;
const payload = new TextEncoder().encode('GET /');

afterEach(() => {
  unregisterPlugin('test-ptp');
});

describe('portmap forwards host ports in the emulated kernel', () => {
  it('from outside the node: DNAT to the pod and back', () => {
    const { k, client, listener } = cluster();
    const p = runUntilDone(k, tcpConnect(client, HOST_IP, 8080, payload, null, 2e9));
    expect(p.outcome?.result).toBe('reachable');
    expect(p.outcome?.replyPayload).toBe('hello from web');
    expect(listener.served).toBe(1);
  });

  it('from the node itself (OUTPUT) and from the pod to its own host port (hairpin, masqueraded)', () => {
    const { k, host, pod, listener } = cluster();
    expect(runUntilDone(k, tcpConnect(host, HOST_IP, 8080, payload, null, 2e9)).outcome?.result).toBe('reachable');
    const hairpin = runUntilDone(k, tcpConnect(pod.netns, HOST_IP, 8080, payload, null, 2e9));
    expect(hairpin.outcome?.result).toBe('reachable');
    expect(listener.served).toBe(2);
  });

  it('without snat the hairpin fails: the pod answers itself from its own address, which conntrack cannot match', () => {
    const { k, pod, client } = cluster({ snat: false });
    expect(runUntilDone(k, tcpConnect(client, HOST_IP, 8080, payload, null, 2e9)).outcome?.result).toBe('reachable');
    expect(runUntilDone(k, tcpConnect(pod.netns, HOST_IP, 8080, payload, null, 2e9)).outcome?.result).toBe('timeout');
  });

  it('stops forwarding once the pod is deleted', () => {
    const { k, node, client } = cluster();
    node.deletePod('web');
    const p = runUntilDone(k, tcpConnect(client, HOST_IP, 8080, payload, null, 2e9));
    expect(p.outcome?.result).toBe('refused');
  });
});
