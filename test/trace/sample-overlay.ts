// A hand-written snapshot of a three-node cluster with a flannel-style VXLAN overlay: the initial namespace holds
// two segment bridges (`underlay` for the nodes, `edge` for an external client) joined by a router namespace;
// every node has eth0 on the underlay, flannel.1 (VNI 1, dstport 8472) with an FDB entry for each other node, and
// cni0 with its pods' veths as ports.

import type { TopologySnapshot, TopoNamespace } from '../../src/trace/topology.js';
import { dev, lo } from './sample-topology.js';

const nodeIp = (n: number) => `192.168.56.1${n}`;

export interface OverlayOptions {
  /** node3 keeps an FDB entry for a node that has left (192.168.56.14). */
  departed?: boolean;
  /** node2 lost its FDB entry for node1, so only node1 → node2 is programmed. */
  oneWay?: boolean;
}

function node(n: number, pods: string[], remotes: number[], extra: string[] = []): TopoNamespace {
  const name = `node${n}`;
  return {
    name,
    ipForward: true,
    devices: [
      lo(),
      dev('eth0', 2, 'veth', [`${nodeIp(n)}/24`], { peer: { ns: 'root', dev: `veth-${name}` } }),
      dev('flannel.1', 3, 'vxlan', [`10.244.${n}.0/32`], {
        mtu: 1450,
        operState: 'UNKNOWN',
        vxlan: { vni: 1, local: nodeIp(n), dstport: 8472, remotes: [...remotes.map(nodeIp), ...extra] },
      }),
      dev('cni0', 4, 'bridge', [`10.244.${n}.1/24`], { mtu: 1450 }),
      ...pods.map((p, i) =>
        dev(`veth${n}${i}a7c`, 5 + i, 'veth', [], { mtu: 1450, master: 'cni0', peer: { ns: p, dev: 'eth0' } }),
      ),
    ],
  };
}

const pod = (name: string, n: number, i: number): TopoNamespace => ({
  name,
  ipForward: false,
  devices: [
    lo(),
    dev('eth0', 2, 'veth', [`10.244.${n}.${2 + i}/24`], {
      mtu: 1450,
      peer: { ns: `node${n}`, dev: `veth${n}${i}a7c` },
    }),
  ],
});

export function overlayClusterTopology(opts: OverlayOptions = {}): TopologySnapshot {
  const port = (name: string, ifindex: number, master: string, peerNs: string, peerDev: string) =>
    dev(name, ifindex, 'veth', [], { master, peer: { ns: peerNs, dev: peerDev } });
  return {
    namespaces: [
      {
        name: 'root',
        ipForward: false,
        devices: [
          lo(),
          dev('underlay', 2, 'bridge', []),
          port('veth-node1', 3, 'underlay', 'node1', 'eth0'),
          port('veth-node2', 4, 'underlay', 'node2', 'eth0'),
          port('veth-node3', 5, 'underlay', 'node3', 'eth0'),
          dev('edge', 6, 'bridge', []),
          port('veth-gw-0', 7, 'underlay', 'gw', 'eth0'),
          port('veth-gw-1', 8, 'edge', 'gw', 'eth1'),
          port('veth-laptop', 9, 'edge', 'laptop', 'eth0'),
        ],
      },
      node(1, ['web-1', 'web-2'], [2, 3]),
      node(2, ['db-1'], opts.oneWay ? [3] : [1, 3]),
      // node3 lists node1 twice, as an FDB with an entry per MAC might; the tunnel is still drawn once.
      node(3, ['cache-1'], [1, 2, 1], opts.departed ? ['192.168.56.14'] : []),
      {
        name: 'gw',
        ipForward: true,
        devices: [
          lo(),
          dev('eth0', 2, 'veth', ['192.168.56.1/24'], { peer: { ns: 'root', dev: 'veth-gw-0' } }),
          dev('eth1', 3, 'veth', ['192.168.57.1/24'], { peer: { ns: 'root', dev: 'veth-gw-1' } }),
        ],
      },
      {
        name: 'laptop',
        ipForward: false,
        devices: [lo(), dev('eth0', 2, 'veth', ['192.168.57.10/24'], { peer: { ns: 'root', dev: 'veth-laptop' } })],
      },
      pod('web-1', 1, 0),
      pod('web-2', 1, 1),
      pod('db-1', 2, 0),
      pod('cache-1', 3, 0),
    ],
  };
}
