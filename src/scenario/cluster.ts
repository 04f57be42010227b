// Builds a scenario's `cluster:` section on the kernel, before the setup commands: the L2 segment (bridge
// `underlay` in the initial namespace), each node as a namespace whose eth0 is a port of it (address, lo up,
// optional default route, net.bridge.bridge-nf-call-iptables=1 as kubeadm's preflight demands), the pod network
// written to every node's /etc/cni/net.d, netfilter enabled, then every pod's sandbox as containerd starts it
// (Node.addPod), hostPorts passed in the portMappings capability the way the kubelet passes them. The result maps
// node and pod names to their namespaces, so steps and listeners can name a pod. A failing pod ADD becomes a
// ScenarioError at the pod (or at the offending character of the configuration). With `kubernetes:` the control
// plane and kube-proxy start last (kube.ts); Kubernetes steps are handed to it, and a node that leaves takes its
// Node object with it.
// Limits: one segment; a node's root-side veth is `veth-<node>`, so node names longer than 10 characters exceed
// IFNAMSIZ and are refused at the node.

import { Node } from '../cni/node.js';
import { enableNetfilter } from '../iptables/index.js';
import type { Kernel } from '../netns/kernel.js';
import type { NetNs } from '../netns/netns.js';
import { FlannelNetwork } from '../overlay/flannel/network.js';
import { type Cidr, formatCidr, type Ipv4 } from '../wire/addr.js';
import { applyCommand } from './apply.js';
import { cniScenarioError, DEFAULT_SEGMENT } from './cluster-load.js';
import { ScenarioError } from './errors.js';
import { KubeRuntime, kubeOf } from './kube.js';
import type {
  Cluster,
  ClusterClient,
  ClusterNode,
  ClusterRouter,
  ClusterSegment,
  Command,
  Pos,
  StepAction,
} from './types.js';

/** The bridge in the initial namespace every node's eth0 is a port of, when the scenario names no segments. */
export const UNDERLAY = DEFAULT_SEGMENT;

const defaultRoute = (ns: string, pos: Pos, via: Ipv4): Command => ({
  kind: 'routeAdd',
  ns,
  pos,
  op: 'add',
  type: 'unicast',
  dst: { addr: 0, len: 0 },
  via,
  onlink: false,
  table: 254,
  protocol: 3,
  scope: 'global',
});

/**
 * A host on the underlay: namespace `name`, lo up, one interface per segment (a veth whose root end `rootDev` is a
 * port of the segment's bridge), each with its address and the segment's MTU, and an optional default route.
 */
function hostCommands(
  name: string,
  pos: Pos,
  ifaces: { segment: ClusterSegment; address: Cidr; dev: string; rootDev: string }[],
  gateway: Ipv4 | undefined,
): Command[] {
  const cmds: Command[] = [
    { kind: 'netnsAdd', ns: null, pos, name },
    { kind: 'linkSet', ns: name, pos, dev: 'lo', up: true },
  ];
  for (const f of ifaces) {
    cmds.push(
      {
        kind: 'linkAddVeth',
        ns: null,
        pos,
        name: f.rootDev,
        peer: { name: f.dev, netns: name },
      },
      { kind: 'linkSet', ns: null, pos, dev: f.rootDev, master: f.segment.name, up: true, mtu: f.segment.mtu },
      { kind: 'linkSet', ns: name, pos, dev: f.dev, mtu: f.segment.mtu },
      { kind: 'addrAdd', ns: name, pos, dev: f.dev, cidr: f.address, scope: 'global' },
      { kind: 'linkSet', ns: name, pos, dev: f.dev, up: true },
    );
  }
  if (gateway !== undefined) cmds.push(defaultRoute(name, pos, gateway));
  return cmds;
}

function segmentByName(c: Cluster, name: string): ClusterSegment {
  // The loader checked every segment reference.
  return c.segments.find((g) => g.name === name)!;
}

function nodeCommands(c: Cluster, n: ClusterNode): Command[] {
  const pos = n.pos;
  const cmds = hostCommands(
    n.name,
    pos,
    [{ segment: segmentByName(c, n.segment), address: n.address, dev: 'eth0', rootDev: `veth-${n.name}` }],
    n.gateway,
  );
  cmds.push({
    kind: 'sysctl',
    ns: n.name,
    pos,
    settings: [{ key: 'net.bridge.bridge-nf-call-iptables', value: '1', pos }],
  });
  return cmds;
}

function routerCommands(c: Cluster, r: ClusterRouter): Command[] {
  const cmds = hostCommands(
    r.name,
    r.pos,
    r.interfaces.map((f, i) => ({
      segment: segmentByName(c, f.segment),
      address: f.address,
      dev: `eth${i}`,
      rootDev: `veth-${r.name}-${i}`,
    })),
    undefined,
  );
  cmds.push({
    kind: 'sysctl',
    ns: r.name,
    pos: r.pos,
    settings: [{ key: 'net.ipv4.ip_forward', value: '1', pos: r.pos }],
  });
  return cmds;
}

function clientCommands(c: Cluster, h: ClusterClient): Command[] {
  return hostCommands(
    h.name,
    h.pos,
    [{ segment: segmentByName(c, h.segment), address: h.address, dev: 'eth0', rootDev: `veth-${h.name}` }],
    h.gateway,
  );
}

/** Cluster names (pods, nodes, routers, clients) of each built kernel, mapped to their namespaces. */
const aliases = new WeakMap<Kernel, Map<string, NetNs>>();

export function scenarioAliases(k: Kernel): Map<string, NetNs> | undefined {
  return aliases.get(k);
}

/** The flannel network of each kernel built with one, for steps that change the cluster. */
const flannels = new WeakMap<Kernel, { net: FlannelNetwork; cluster: Cluster }>();

export function flannelOf(k: Kernel): FlannelNetwork | undefined {
  return flannels.get(k)?.net;
}

/** kube-flannel's DaemonSet: flanneld on every node in order, each acquiring its lease and writing subnet.env. */
function startFlannel(k: Kernel, c: Cluster, nodes: Map<string, Node>): FlannelNetwork {
  const f = c.flannel!;
  const net = new FlannelNetwork(f.netConf, { file: 'net-conf.json', ipMasq: f.ipMasq });
  for (const n of c.nodes) {
    const node = nodes.get(n.name)!;
    try {
      net.join({
        name: n.name,
        host: node.host,
        iface: 'eth0',
        fs: node.fs,
        ...(n.podCIDR !== undefined ? { podCIDR: n.podCIDR } : {}),
      });
    } catch (e) {
      throw ScenarioError.at(n.pos, `flanneld on node ${n.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    k.run(k.now);
  }
  flannels.set(k, { net, cluster: c });
  return net;
}

/** A node leaves: flannel drops its lease everywhere, then the machine goes away (its namespace is deleted). */
function nodeLeave(k: Kernel, node: string, pos: Pos): string[] {
  const f = flannels.get(k);
  const cn = f?.cluster.nodes.find((n) => n.name === node);
  if (!f || !cn) throw ScenarioError.at(pos, `'${node}' is not a node of a flannel cluster`);
  const lease = f.net.sm.node(node)?.lease;
  try {
    f.net.leave(node);
  } catch (e) {
    throw ScenarioError.at(pos, e instanceof Error ? e.message : String(e));
  }
  // The machine is gone, and its pods with it.
  const gone = [node, ...f.cluster.pods.filter((p) => p.node === node).map((p) => p.name)];
  for (const name of gone) {
    const ns = scenarioAliases(k)?.get(name);
    if (ns && k.namespaces.get(ns.name) === ns) k.delNetns(ns.name);
  }
  const lines = [
    `node ${node} left: lease ${lease ? formatCidr(lease.subnet) : '(none)'} removed from every other node; ${gone.length - 1} pod(s) gone with it`,
  ];
  // With Kubernetes, its Node object goes too: its pods are deleted and their controllers replace them.
  const kube = kubeOf(k);
  if (kube) lines.push(...kube.nodeGone(node, pos));
  return lines;
}

/** Carries out a step's change to the cluster; returns what happened, in words. */
export function runClusterAction(k: Kernel, action: StepAction, pos: Pos): string[] {
  if (action.kind === 'leave') return nodeLeave(k, action.node, pos);
  const kube = kubeOf(k);
  if (!kube) throw ScenarioError.at(pos, 'this step needs Kubernetes: add a `kubernetes:` section to `cluster:`');
  return kube.action(action, pos);
}

/** Creates the cluster on `k`; returns the namespaces of its nodes, pods, routers and clients by name. */
export function buildCluster(k: Kernel, c: Cluster): Map<string, NetNs> {
  const apply = (cmd: Command): void => {
    applyCommand(k, cmd);
    k.run(k.now);
  };
  const names = new Map<string, NetNs>();
  for (const g of c.segments) {
    apply({ kind: 'linkAddBridge', ns: null, pos: g.pos, name: g.name });
    apply({ kind: 'linkSet', ns: null, pos: g.pos, dev: g.name, up: true, mtu: g.mtu });
  }
  for (const r of c.routers) {
    for (const cmd of routerCommands(c, r)) apply(cmd);
    names.set(r.name, k.netns(r.name));
  }
  for (const h of c.clients) {
    for (const cmd of clientCommands(c, h)) apply(cmd);
    names.set(h.name, k.netns(h.name));
  }
  const nodes = new Map<string, Node>();
  for (const n of c.nodes) {
    for (const cmd of nodeCommands(c, n)) apply(cmd);
    const node = new Node(k, n.name, { name: n.name });
    node.writeConfig(c.cni.fileName, c.cni.text);
    nodes.set(n.name, node);
    names.set(n.name, node.host);
  }
  enableNetfilter(k);
  const flannel = c.flannel !== undefined ? startFlannel(k, c, nodes) : undefined;
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
  aliases.set(k, names);
  if (c.kubernetes !== undefined) {
    const kube = new KubeRuntime({
      kernel: k,
      cluster: c,
      kube: c.kubernetes,
      nodes,
      aliases: names,
      ...(flannel !== undefined ? { flannel } : {}),
    });
    kube.start();
  }
  return names;
}
