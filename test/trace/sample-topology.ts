// Hand-written topology snapshots for diagram tests: a router between two namespaces, and two nodes with a
// bridge each and pods on veths, joined by an underlay bridge namespace.

import type { DevKind, TopoDevice, TopologySnapshot } from '../../src/trace/topology.js';

export function dev(name: string, ifindex: number, kind: DevKind, addrs: string[], extra: Partial<TopoDevice> = {}) {
  const mac = `02:00:00:00:${ifindex.toString(16).padStart(2, '0')}:01`;
  return { name, ifindex, kind, mac, mtu: 1500, up: true, operState: 'UP', addrs, ...extra } satisfies TopoDevice;
}

export const lo = () =>
  dev('lo', 1, 'loopback', ['127.0.0.1/8'], { operState: 'UNKNOWN', mac: '00:00:00:00:00:00', mtu: 65536 });

export function routerTopology(): TopologySnapshot {
  return {
    namespaces: [
      {
        name: 'a',
        ipForward: false,
        devices: [lo(), dev('eth0', 2, 'veth', ['10.0.1.2/24'], { peer: { ns: 'r', dev: 'eth0' } })],
      },
      {
        name: 'r',
        ipForward: true,
        devices: [
          lo(),
          dev('eth0', 2, 'veth', ['10.0.1.1/24'], { peer: { ns: 'a', dev: 'eth0' } }),
          dev('eth1', 3, 'veth', ['10.0.2.1/24'], { peer: { ns: 'b', dev: 'eth0' } }),
        ],
      },
      {
        name: 'b',
        ipForward: false,
        devices: [lo(), dev('eth0', 2, 'veth', ['10.0.2.2/24'], { peer: { ns: 'r', dev: 'eth1' } })],
      },
    ],
  };
}

const pod = (name: string, node: string, veth: string, ip: string, up = true) => ({
  name,
  ipForward: false,
  devices: [lo(), dev('eth0', 3, 'veth', [ip], { peer: { ns: node, dev: veth }, up, operState: up ? 'UP' : 'DOWN' })],
});

const node = (name: string, n: number, pods: string[]) => ({
  name,
  ipForward: true,
  devices: [
    lo(),
    dev('eth0', 2, 'veth', [`192.168.56.1${n}/24`], { peer: { ns: 'underlay', dev: `veth-${name}` } }),
    dev('cni0', 3, 'bridge', [`10.244.${n}.1/24`]),
    ...pods.map((p, i) => dev(`veth${n}${i}`, 4 + i, 'veth', [], { master: 'cni0', peer: { ns: p, dev: 'eth0' } })),
    dev('flannel.1', 9, 'vxlan', [`10.244.${n}.0/32`]),
  ],
});

export function clusterTopology(): TopologySnapshot {
  return {
    namespaces: [
      {
        name: 'underlay',
        ipForward: false,
        devices: [
          dev('br0', 2, 'bridge', ['192.168.56.1/24']),
          dev('veth-node1', 3, 'veth', [], { master: 'br0', peer: { ns: 'node1', dev: 'eth0' } }),
          dev('veth-node2', 4, 'veth', [], { master: 'br0', peer: { ns: 'node2', dev: 'eth0' } }),
        ],
      },
      node('node1', 1, ['pod-a', 'pod-b']),
      node('node2', 2, ['pod-c', 'pod-d']),
      pod('pod-a', 'node1', 'veth10', '10.244.1.2/24'),
      pod('pod-b', 'node1', 'veth11', '10.244.1.3/24'),
      pod('pod-c', 'node2', 'veth20', '10.244.2.2/24', false),
      pod('pod-d', 'node2', 'veth21', '10.244.2.3/24'),
    ],
  };
}
