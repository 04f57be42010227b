// A flannel pod network across a cluster, as kube-flannel's DaemonSet runs it: one net-conf.json, the Kubernetes
// subnet manager over the cluster's Node objects, and a flanneld on every node that joins. Joining registers the
// Node (with its podCIDR, or one from kube-controller-manager's range allocator), starts the node's flanneld,
// which acquires its lease — at which point every flanneld already running adds routes to it — and then adds
// routes to every lease already there. Leaving deletes the Node: every other flanneld removes what it had made
// for the lease, and the leaving node's flanneld stops (its own devices and rules stay, as on a node that is shut
// down). A node whose flanneld fails to start is deleted again, so a failed join leaves the cluster as it was.
// Limits: one network per cluster; flanneld options are the same on every node (kube-flannel's DaemonSet).

import type { NodeFs } from '../../cni/types.js';
import type { NetNs } from '../../netns/netns.js';
import type { Cidr, Ipv4 } from '../../wire/addr.js';
import { type FlannelNetConf, parseNetConf } from './config.js';
import { Flanneld, type FlanneldOptions } from './flanneld.js';
// The backends register themselves, as flannel's do in init().
import './hostgw.js';
import './vxlan.js';
import { type Lease, leaseAnnotations } from './lease.js';
import { FlannelError, KubeSubnetManager } from './subnet-manager.js';

export interface FlannelNodeSpec {
  name: string;
  /** The node's host network namespace. */
  host: NetNs;
  /** The interface other nodes are reached through (flanneld --iface). */
  iface: string;
  /** --public-ip; default: the interface's first address. */
  publicIp?: Ipv4;
  /** spec.podCIDR; default: allocated in node order. */
  podCIDR?: Cidr;
  /** The node's files (subnet.env is written there). */
  fs: NodeFs;
}

export interface FlannelNetworkOptions extends Omit<FlanneldOptions, 'publicIp'> {
  /** net-conf.json's file name in errors. */
  file?: string;
}

export class FlannelNetwork {
  readonly config: FlannelNetConf;
  readonly sm: KubeSubnetManager;
  private readonly daemons = new Map<string, Flanneld>();
  private readonly opts: FlanneldOptions;

  /** `netConf`: net-conf.json's text (parsed here, FlannelConfigError on a mistake) or an already parsed one. */
  constructor(netConf: string | FlannelNetConf, opts: FlannelNetworkOptions = {}) {
    this.config = typeof netConf === 'string' ? parseNetConf(netConf, opts.file) : netConf;
    this.sm = new KubeSubnetManager(this.config);
    const { file: _file, ...rest } = opts;
    // kube-flannel runs flanneld with --ip-masq.
    this.opts = { ipMasq: true, ...rest };
  }

  /** A node joins: its Node object appears and its flanneld starts. */
  join(spec: FlannelNodeSpec): Flanneld {
    if (this.daemons.has(spec.name)) throw new FlannelError(`node "${spec.name}" has already joined`);
    this.sm.registerNode(spec.name, spec.podCIDR);
    const d = new Flanneld(spec.name, spec.host, spec.fs, spec.iface, this.config, this.sm, {
      ...this.opts,
      ...(spec.publicIp !== undefined ? { publicIp: spec.publicIp } : {}),
    });
    try {
      d.start();
    } catch (e) {
      this.sm.deleteNode(spec.name);
      throw e;
    }
    this.daemons.set(spec.name, d);
    return d;
  }

  /** A node leaves: its Node object is deleted, the others drop its lease, its flanneld stops. */
  leave(name: string): void {
    const d = this.daemons.get(name);
    if (!d) throw new FlannelError(`node "${name}" has not joined`);
    d.stop();
    this.sm.deleteNode(name);
    this.daemons.delete(name);
  }

  flanneld(name: string): Flanneld | undefined {
    return this.daemons.get(name);
  }

  /** The running flanneld, in join order. */
  nodes(): Flanneld[] {
    return [...this.daemons.values()];
  }

  /** Every lease, in join order. */
  leases(): Lease[] {
    return this.sm.leases();
  }

  /** flannel's annotations on a node (empty when it has none). */
  annotations(name: string): Record<string, string> {
    const l = this.sm.node(name)?.lease;
    return l ? leaseAnnotations(l) : {};
  }

  /** The iptables check flanneld runs every 5 s, on every node. */
  resync(): void {
    for (const d of this.daemons.values()) d.resync();
  }
}
