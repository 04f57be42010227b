// kube-controller-manager's node IPAM (--allocate-node-cidrs with the RangeAllocator and its cidrset): the
// cluster CIDR is cut into blocks of --node-cidr-mask-size; a node that comes with a podCIDR occupies its block, a
// node without one gets the next free block, searching from the block after the last one handed out and wrapping
// around (so a released block is reused only after the others). The first node of a kubeadm cluster with
// --pod-network-cidr=10.244.0.0/16 thus gets 10.244.0.0/24. Deleting a node releases its block.
// Errors use the controller's wording. IPv4 only.

import { type Cidr, formatCidr, type Ipv4, inPrefix, prefixMask } from '../../wire/addr.js';

export const ERR_NO_CIDRS_REMAINING =
  'CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range';

/** cidrset.CidrSet for an IPv4 cluster CIDR. */
export class CidrSet {
  private readonly used = new Set<number>();
  private nextCandidate = 0;
  readonly maxCidrs: number;

  constructor(
    readonly cluster: Cidr,
    readonly nodeMaskSize: number,
  ) {
    if (nodeMaskSize < cluster.len || nodeMaskSize > 32)
      throw new Error(`node CIDR mask size /${nodeMaskSize} does not fit cluster CIDR ${formatCidr(cluster)}`);
    this.maxCidrs = 2 ** (nodeMaskSize - cluster.len);
  }

  get allocated(): number {
    return this.used.size;
  }

  private block(index: number): Cidr {
    const base = (this.cluster.addr & prefixMask(this.cluster.len)) >>> 0;
    return { addr: (base + index * 2 ** (32 - this.nodeMaskSize)) >>> 0, len: this.nodeMaskSize };
  }

  /** AllocateNext. */
  allocateNext(): Cidr {
    if (this.used.size === this.maxCidrs) throw new Error(ERR_NO_CIDRS_REMAINING);
    let candidate = this.nextCandidate;
    for (let i = 0; i < this.maxCidrs && this.used.has(candidate); i++) candidate = (candidate + 1) % this.maxCidrs;
    this.nextCandidate = (candidate + 1) % this.maxCidrs;
    this.used.add(candidate);
    return this.block(candidate);
  }

  /** The indices of the blocks `cidr` covers (getBeginningAndEndIndices). */
  private indices(cidr: Cidr): [number, number] {
    const clusterNet = (this.cluster.addr & prefixMask(this.cluster.len)) >>> 0;
    const net = (cidr.addr & prefixMask(cidr.len)) >>> 0;
    if (!inPrefix(net, clusterNet, this.cluster.len) && !inPrefix(clusterNet, net, cidr.len))
      throw new Error(`cidr ${formatCidr(cidr)} is out the range of cluster cidr ${formatCidr(this.cluster)}`);
    if (this.cluster.len >= cidr.len) return [0, this.maxCidrs - 1];
    const index = (ip: Ipv4): number => {
      const i = Math.floor(((ip ^ clusterNet) >>> 0) / 2 ** (32 - this.nodeMaskSize));
      if (i >= this.maxCidrs)
        throw new Error(
          `CIDR: ${formatCidr({ addr: ip, len: this.nodeMaskSize })} is out of the range of CIDR allocator`,
        );
      return i;
    };
    const last = (net | ~prefixMask(cidr.len)) >>> 0;
    return [index(net), index(last)];
  }

  /** Occupy: marks the blocks of `cidr` as used (also when they already are). */
  occupy(cidr: Cidr): void {
    const [b, e] = this.indices(cidr);
    for (let i = b; i <= e; i++) this.used.add(i);
  }

  release(cidr: Cidr): void {
    const [b, e] = this.indices(cidr);
    for (let i = b; i <= e; i++) this.used.delete(i);
  }
}

/** The RangeAllocator's AllocateOrOccupyCIDR for one cluster CIDR: the node's podCIDR, allocated when missing. */
export function allocateOrOccupy(set: CidrSet, podCidr: Cidr | undefined): Cidr {
  if (podCidr !== undefined) {
    set.occupy(podCidr);
    return podCidr;
  }
  try {
    return set.allocateNext();
  } catch (e) {
    throw new Error(`failed to allocate cidr from cluster cidr at idx:0: ${(e as Error).message}`);
  }
}
