// Builds a scenario's `cluster:` section on the kernel, before the setup commands: the L2 segment (bridge
// `underlay` in the initial namespace), each node as a namespace whose eth0 is a port of it (address, lo up,
// optional default route, net.bridge.bridge-nf-call-iptables=1 as kubeadm's preflight demands), the pod network
// written to every node's /etc/cni/net.d, netfilter enabled, then every pod's sandbox as containerd starts it
// (Node.addPod), hostPorts passed in the portMappings capability the way the kubelet passes them. The result maps
// node and pod names to their namespaces, so steps and listeners can name a pod. A failing pod ADD becomes a
// ScenarioError at the pod (or at the offending character of the configuration).
// Limits: one segment; a node's root-side veth is `veth-<node>`, so node names longer than 10 characters exceed
// IFNAMSIZ and are refused at the node.

import { Node } from '../cni/node.js';
import { enableNetfilter } from '../iptables/index.js';
import type { Kernel } from '../netns/kernel.js';
import type { NetNs } from '../netns/netns.js';
import { applyCommand } from './apply.js';
import { cniScenarioError } from './cluster-load.js';
import type { Cluster, ClusterNode, Command } from './types.js';

/** The bridge in the initial namespace every node's eth0 is a port of. */
export const UNDERLAY = 'underlay';

function nodeCommands(n: ClusterNode): Command[] {
  const pos = n.pos;
  const veth = `veth-${n.name}`;
  const cmds: Command[] = [
    { kind: 'netnsAdd', ns: null, pos, name: n.name },
    { kind: 'linkAddVeth', ns: null, pos, name: veth, peer: { name: 'eth0', netns: n.name } },
    { kind: 'linkSet', ns: null, pos, dev: veth, master: UNDERLAY, up: true },
    { kind: 'linkSet', ns: n.name, pos, dev: 'lo', up: true },
    { kind: 'addrAdd', ns: n.name, pos, dev: 'eth0', cidr: n.address, scope: 'global' },
    { kind: 'linkSet', ns: n.name, pos, dev: 'eth0', up: true },
    {
      kind: 'sysctl',
      ns: n.name,
      pos,
      settings: [{ key: 'net.bridge.bridge-nf-call-iptables', value: '1', pos }],
    },
  ];
  if (n.gateway !== undefined)
    cmds.push({
      kind: 'routeAdd',
      ns: n.name,
      pos,
      op: 'add',
      type: 'unicast',
      dst: { addr: 0, len: 0 },
      via: n.gateway,
      onlink: false,
      table: 254,
      protocol: 3,
      scope: 'global',
    });
  return cmds;
}

/** Creates the cluster on `k`; returns the namespaces of its nodes and pods by name. */
export function buildCluster(k: Kernel, c: Cluster): Map<string, NetNs> {
  const apply = (cmd: Command): void => {
    applyCommand(k, cmd);
    k.run(k.now);
  };
  const names = new Map<string, NetNs>();
  apply({ kind: 'linkAddBridge', ns: null, pos: c.pos, name: UNDERLAY });
  apply({ kind: 'linkSet', ns: null, pos: c.pos, dev: UNDERLAY, up: true });
  const nodes = new Map<string, Node>();
  for (const n of c.nodes) {
    for (const cmd of nodeCommands(n)) apply(cmd);
    const node = new Node(k, n.name, { name: n.name });
    node.writeConfig(c.cni.fileName, c.cni.text);
    nodes.set(n.name, node);
    names.set(n.name, node.host);
  }
  enableNetfilter(k);
  for (const p of c.pods) {
    // The loader checked that the node exists.
    const node = nodes.get(p.node)!;
    try {
      const pod = node.addPod(p.name, {
        namespace: p.namespace,
        ...(p.ports.length > 0 ? { capabilityArgs: { portMappings: p.ports } } : {}),
      });
      names.set(p.name, pod.netns);
    } catch (e) {
      throw cniScenarioError(e, c.cni, p.pos, `pod ${p.namespace}/${p.name} on node ${p.node}`);
    }
    k.run(k.now);
  }
  return names;
}
