// The cluster side of flannel's Kubernetes subnet manager (pkg/subnet/kube, flanneld --kube-subnet-mgr): the
// Node objects it watches, their podCIDRs (given, or handed out by kube-controller-manager's range allocator over
// the flannel Network, see range-allocator.ts) and flannel's annotations on them.
// - AcquireLease: the node must have a podCIDR (`node "n1" pod cidr not assigned`) inside the Network
//   (`subnet "…" specified in the flannel net config doesn't contain "…" PodCIDR of the "n1" node`); the
//   annotations are patched when they differ, and the lease is the podCIDR plus the announced attributes.
// - Watchers (each node's flanneld) first get an `added` event for every node already carrying
//   kube-subnet-manager "true" (in the order the nodes were registered; the informer's initial list has no
//   defined order), then an `added` event when another node's backend annotations change and a `removed` event
//   when a node carrying them is deleted. A node never hears about its own lease (flannel's LeaseWatcher drops it).
// Limits: IPv4 only; no annotation prefix other than flannel.alpha.coreos.com; no public-ip-overwrite.

import { type Cidr, formatCidr, inPrefix } from '../../wire/addr.js';
import { checkNetworkConfig } from './check.js';
import type { FlannelNetConf } from './config.js';
import { ANNOTATIONS, type Lease, type LeaseAttrs, type LeaseEvent, leaseAnnotations } from './lease.js';
import { allocateOrOccupy, CidrSet } from './range-allocator.js';

export interface KubeNode {
  name: string;
  /** spec.podCIDR, null when none was given and the controller manager could not allocate one. */
  podCidr: Cidr | null;
  /** Why the controller manager left the node without a podCIDR. */
  cidrError?: string;
  annotations: Record<string, string>;
  /** The lease the node's flanneld acquired (what the annotations say). */
  lease?: Lease;
}

export type LeaseWatcher = (batch: LeaseEvent[]) => void;

/** A flannel error with flanneld's message; `details` adds what the cluster knew. */
export class FlannelError extends Error {
  override readonly name = 'FlannelError';
  constructor(
    message: string,
    readonly details?: string,
  ) {
    super(message);
  }
}

export class KubeSubnetManager {
  private readonly nodesByName = new Map<string, KubeNode>();
  private readonly watchers = new Map<string, LeaseWatcher>();
  private cidrSet: CidrSet | undefined;

  constructor(readonly config: FlannelNetConf) {}

  nodes(): KubeNode[] {
    return [...this.nodesByName.values()];
  }

  node(name: string): KubeNode | undefined {
    return this.nodesByName.get(name);
  }

  /** The leases of every node carrying flannel's annotations, in registration order. */
  leases(): Lease[] {
    return this.nodes().flatMap((n) => (n.lease ? [n.lease] : []));
  }

  /** The controller manager's cidrset over the Network, cut at SubnetLen (made when first needed). */
  private set(): CidrSet {
    if (!this.cidrSet) {
      const { subnetLen } = checkNetworkConfig(this.config);
      this.cidrSet = new CidrSet(this.config.network, subnetLen);
      for (const n of this.nodesByName.values()) if (n.podCidr) this.occupy(n.podCidr);
    }
    return this.cidrSet;
  }

  private occupy(c: Cidr): void {
    try {
      this.cidrSet?.occupy(c);
    } catch {
      // The range allocator only logs a podCIDR outside its cluster CIDR; flanneld refuses it later.
    }
  }

  /** A Node object appears (kubelet registers it); the controller manager gives it a podCIDR when it has none. */
  registerNode(name: string, podCidr?: Cidr): KubeNode {
    if (this.nodesByName.has(name)) throw new FlannelError(`node "${name}" already exists`);
    if (podCidr !== undefined) {
      const other = this.nodes().find(
        (n) =>
          n.podCidr &&
          (inPrefix(podCidr.addr, n.podCidr.addr, n.podCidr.len) ||
            inPrefix(n.podCidr.addr, podCidr.addr, podCidr.len)),
      );
      if (other)
        throw new FlannelError(
          `podCIDR ${formatCidr(podCidr)} of node "${name}" overlaps podCIDR ${formatCidr(other.podCidr!)} of node "${other.name}"`,
        );
    }
    const node: KubeNode = { name, podCidr: null, annotations: {} };
    if (podCidr !== undefined) {
      node.podCidr = { addr: podCidr.addr, len: podCidr.len };
      this.occupy(podCidr);
    } else {
      try {
        node.podCidr = allocateOrOccupy(this.set(), undefined);
      } catch (e) {
        node.cidrError = e instanceof Error ? e.message : String(e);
      }
    }
    this.nodesByName.set(name, node);
    return node;
  }

  /** The Node object is deleted: its block goes back to the allocator, other flanneld see the lease removed. */
  deleteNode(name: string): void {
    const node = this.nodesByName.get(name);
    if (!node) throw new FlannelError(`node "${name}" not found`);
    this.nodesByName.delete(name);
    this.watchers.delete(name);
    if (node.podCidr && this.cidrSet) {
      try {
        this.cidrSet.release(node.podCidr);
      } catch {
        // Outside the cluster CIDR: nothing was occupied.
      }
    }
    if (node.lease) this.notify(name, { type: 'removed', lease: node.lease });
  }

  /** AcquireLease for `name` with the attributes its backend announces. */
  acquireLease(name: string, attrs: LeaseAttrs): Lease {
    const node = this.nodesByName.get(name);
    if (!node) throw new FlannelError(`node "${name}" not found`);
    if (!node.podCidr)
      throw new FlannelError(
        `node "${name}" pod cidr not assigned`,
        node.cidrError && `kube-controller-manager: ${node.cidrError}`,
      );
    const net = this.config.network;
    const cidr = node.podCidr;
    const empty = net.addr === 0 && net.len === 0;
    if (empty || !(net.len <= cidr.len && inPrefix(cidr.addr, net.addr, net.len)))
      throw new FlannelError(
        `subnet "${formatCidr(net)}" specified in the flannel net config doesn't contain "${formatCidr(cidr)}" PodCIDR of the "${name}" node`,
      );
    const lease: Lease = { node: name, subnet: { ...cidr }, attrs: { ...attrs } };
    const want = leaseAnnotations(lease);
    const a = node.annotations;
    const changed =
      a[ANNOTATIONS.backendData] !== want[ANNOTATIONS.backendData] ||
      a[ANNOTATIONS.backendType] !== want[ANNOTATIONS.backendType] ||
      a[ANNOTATIONS.publicIp] !== want[ANNOTATIONS.publicIp];
    Object.assign(a, want);
    node.lease = lease;
    // The node informer reports an update; only a change of the backend annotations makes it a lease event.
    if (changed) this.notify(name, { type: 'added', lease });
    return lease;
  }

  /** WatchLeases for `name`: the current leases of the other nodes now, later events as they happen. */
  watchLeases(name: string, fn: LeaseWatcher): void {
    this.watchers.set(name, fn);
    const initial = this.leases().filter((l) => l.node !== name);
    if (initial.length > 0) fn(initial.map((lease) => ({ type: 'added', lease })));
  }

  unwatch(name: string): void {
    this.watchers.delete(name);
  }

  private notify(from: string, ev: LeaseEvent): void {
    for (const [name, fn] of [...this.watchers]) if (name !== from) fn([ev]);
  }
}
