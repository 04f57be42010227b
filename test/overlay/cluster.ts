// Test clusters for flannel: namespace `ul` holds the underlay bridge br0; every node is a namespace whose eth0
// (192.168.50.1N/24) is a veth port of br0, with lo up; each node has a CNI Node (kube-flannel's conflist in its
// /etc/cni/net.d) sharing its files with the node's flanneld.

import { MemFs } from '../../src/cni/fs.js';
import { Node } from '../../src/cni/node.js';
import { KUBE_FLANNEL_CNI_CONF, KUBE_FLANNEL_CNI_CONF_NAME } from '../../src/cni/plugins/flannel.js';
import { enableNetfilter } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import type { NetNs } from '../../src/netns/netns.js';
import type { VxlanDev } from '../../src/netns/vxlan.js';
import type { FlannelNetworkOptions } from '../../src/overlay/flannel/network.js';
import { FlannelNetwork } from '../../src/overlay/flannel/network.js';
import { type Cidr, formatIpv4, formatMac, parseIpv4 } from '../../src/wire/addr.js';
import { sh } from '../cni/helpers.js';

export interface TestNode {
  name: string;
  ip: string;
  node: Node;
  fs: MemFs;
}

export interface TestCluster {
  k: Kernel;
  net: FlannelNetwork;
  nodes: Map<string, TestNode>;
  /** Adds node `name` (index i → 192.168.50.1i) to the underlay and returns it (flannel not joined). */
  addNode(name: string, i: number): TestNode;
  /** addNode, then join the flannel network. */
  join(name: string, i: number, podCIDR?: Cidr): TestNode;
}

export function testCluster(netConf: string, opts: FlannelNetworkOptions & { seed?: number } = {}): TestCluster {
  const { seed, ...netOpts } = opts;
  const k = new Kernel({ seed: seed ?? 7 });
  k.tracer.tracing = false;
  enableNetfilter(k);
  sh(k, 'ip netns add ul\nip -n ul link add br0 type bridge\nip -n ul link set br0 up');
  const net = new FlannelNetwork(netConf, netOpts);
  const nodes = new Map<string, TestNode>();
  const addNode = (name: string, i: number): TestNode => {
    const ip = `192.168.50.${10 + i}`;
    sh(
      k,
      [
        `ip netns add ${name}`,
        `ip -n ul link add v-${name} type veth peer name eth0 netns ${name}`,
        `ip -n ul link set v-${name} master br0`,
        `ip -n ul link set v-${name} up`,
        `ip -n ${name} link set lo up`,
        `ip -n ${name} addr add ${ip}/24 dev eth0`,
        `ip -n ${name} link set eth0 up`,
      ].join('\n'),
    );
    const fs = new MemFs();
    const node = new Node(k, name, { fs });
    node.writeConfig(KUBE_FLANNEL_CNI_CONF_NAME, KUBE_FLANNEL_CNI_CONF);
    const t = { name, ip, node, fs };
    nodes.set(name, t);
    return t;
  };
  const join = (name: string, i: number, podCIDR?: Cidr): TestNode => {
    const t = addNode(name, i);
    net.join({ name, host: k.netns(name), iface: 'eth0', fs: t.fs, ...(podCIDR ? { podCIDR } : {}) });
    k.run(k.now);
    return t;
  };
  return { k, net, nodes, addNode, join };
}

export const ip = (s: string) => parseIpv4(s)!;

/** `bridge fdb show dev flannel.1` for the emulated device. */
export function fdbOf(ns: NetNs, dev = 'flannel.1'): string {
  const d = ns.dev(dev) as VxlanDev;
  return d
    .fdbEntries()
    .flatMap((e) => e.remotes.map((r) => `${formatMac(e.mac)} dst ${formatIpv4(r.ip)} self ${e.state}\n`))
    .join('');
}
