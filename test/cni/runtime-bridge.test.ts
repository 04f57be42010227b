import { describe, expect, it } from 'vitest';
import { MemFs } from '../../src/cni/fs.js';
import { Node } from '../../src/cni/node.js';
import '../../src/cni/plugins/bridge.js';
import { addNetworkList, checkNetworkList, delNetworkList } from '../../src/cni/runtime.js';
import { parseConfList } from '../../src/cni/spec/index.js';
import { runUntilDone, tcpConnect } from '../../src/index.js';
import { enableNetfilter, iptablesSave } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { REAL, sh } from './helpers.js';

/** The list the fixture was recorded with: bridge + host-local as capture.sh configured them, then portmap. */
const DBNET_REAL = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'dbnet',
  plugins: [
    {
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: true,
      ipam: { type: 'host-local', subnet: '10.1.0.0/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] },
      dns: { nameservers: ['10.1.0.1'] },
    },
    { type: 'portmap', snat: true, capabilities: { portMappings: true } },
  ],
});

function strip(save: string): string {
  return save
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .join('\n');
}

function without(save: string, chain: string): string {
  return save
    .split('\n')
    .filter((l) => !l.includes(chain))
    .join('\n');
}

describe('bridge + host-local + portmap through the runtime', () => {
  it('leave the host nat table exactly as the real plugins did, pod by pod, and DEL undoes one pod', () => {
    const k = new Kernel({ seed: 9 });
    enableNetfilter(k);
    sh(k, 'ip netns add host\nip netns add pod1\nip netns add pod2\nip -n host link set lo up');
    const env = { kernel: k, host: k.netns('host'), fs: new MemFs() };
    const net = parseConfList(DBNET_REAL, '10-dbnet.conflist');
    const rt = (i: 0 | 1, portMappings: unknown) => ({
      containerId: REAL.ids[i],
      netns: k.netns(`pod${i + 1}`),
      ifName: 'eth0',
      capabilityArgs: { portMappings },
    });
    const r1 = addNetworkList(net, rt(0, REAL.mappings1), env);
    expect(r1.ips).toEqual((REAL.bridgeResult1 as { ips: unknown }).ips);
    // The capture ADDed both pods' bridge before portmap: leave out pod 2's masquerade chain.
    expect(strip(iptablesSave(env.host, { table: 'nat' }))).toBe(
      without(strip(REAL.natAfterPortmap1), 'CNI-7f7aea54981de0479cb39199'),
    );
    addNetworkList(net, rt(1, REAL.mappings2), env);
    expect(strip(iptablesSave(env.host, { table: 'nat' }))).toBe(strip(REAL.natAfterPortmap2));
    checkNetworkList(net, rt(0, REAL.mappings1), env);
    delNetworkList(net, rt(0, REAL.mappings1), env);
    // The capture ran only portmap's DEL, so pod 1's masquerade chain was still there; here bridge's DEL removed it.
    expect(strip(iptablesSave(env.host, { table: 'nat' }))).toBe(
      without(strip(REAL.natAfterDel1), 'CNI-48f46fc710407a13f184b7e1'),
    );
  });

  it('a node forwards a host port to a pod from outside, from another pod and from the host; the pod itself needs hairpin', () => {
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
ip -n client link set c0 up`,
    );
    const node = new Node(k, 'node');
    node.writeConfig('10-dbnet.conflist', DBNET_REAL);
    const a = node.addPod('a', {
      capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
    });
    const b = node.addPod('b');
    const web = a.netns.sockets.listen('tcp', 80, new TextEncoder().encode('hi'));
    const HOST = parseIpv4('192.168.1.10')!;
    for (const from of [k.netns('client'), b.netns, k.netns('node')]) {
      const p = runUntilDone(k, tcpConnect(from, HOST, 8080, new Uint8Array(3), null, 2e9));
      expect([from.name, p.outcome?.result]).toEqual([from.name, 'reachable']);
    }
    expect(web.served).toBe(3);
    // The DNATed SYN stays bridged (br_nf_pre_routing_finish) and would have to leave through the port it came in
    // on: without hairpinMode (not set in this configuration) the bridge drops it, as Linux does — portmap's
    // documentation asks for hairpinMode for exactly this case.
    const self = runUntilDone(k, tcpConnect(a.netns, HOST, 8080, new Uint8Array(3), null, 2e9));
    expect(self.outcome?.result).toBe('timeout');
    expect(web.served).toBe(3);
    node.checkPod('a');
    node.deletePod('a');
    node.deletePod('b');
    expect(iptablesSave(k.netns('node'), { table: 'nat' })).not.toMatch(/CNI-DN-|CNI-[0-9a-f]{24}/);
    expect(node.fs.list('/var/lib/cni/results')).toEqual([]);
  });
});
