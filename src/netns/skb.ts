// The socket buffer: one packet's bytes plus the metadata the stack keeps beside them (struct sk_buff). The bytes
// live in `buf` with headroom in front, so that a header can be pushed (Ethernet on output, VXLAN's outer headers)
// without copying the payload. Offsets are absolute indices into `buf`. A forwarded or bridged packet keeps its id;
// every packet the stack creates (a reply, an ICMP error, an ARP request, a flooded copy's origin) gets a new one.
// `hash` is skb->hash: a socket's random sk_txhash on what it sends, 0 when none is known yet (a VXLAN device then
// computes the flow dissector's hash, see flow_hash.ts); it survives veths, bridges, forwarding and fragmentation.

import type { NetDev } from './netdev.js';

export type PktType = 'host' | 'broadcast' | 'multicast' | 'otherhost';

/**
 * Headroom reserved in front of every packet the stack builds: Ethernet (14), VXLAN's outer IPv4/UDP/VXLAN headers
 * (50) and the outer Ethernet header (14), rounded up, so that encapsulation never has to copy the packet.
 */
export const SKB_HEADROOM = 80;

/** Per-packet fields owned by extensions (netfilter's conntrack reference, bridge-netfilter state, …). */
// biome-ignore lint/suspicious/noEmptyInterface: extensions add their fields by declaration merging
export interface SkbExt {}

export class Skb {
  /** Start of the valid data (the Ethernet header while the frame is on a device). */
  head: number;
  /** End of the valid data (exclusive). */
  end: number;
  /** Offset of the IPv4 (or ARP) header; -1 when not yet known. */
  nh = -1;
  /** Offset of the transport header; -1 when not yet known. */
  th = -1;
  dev: NetDev | null = null;
  /** Device the packet arrived on (kept through forwarding, as skb->skb_iif). */
  inDev: NetDev | null = null;
  pktType: PktType = 'host';
  mark = 0;
  /** Devices and routers crossed; bounds bridging and routing loops that TTL cannot end (ARP floods). */
  hops = 0;
  /** skb->hash: the flow hash (a socket's sk_txhash, or the dissector's); 0 = not computed. */
  hash = 0;
  ext: SkbExt = {};

  constructor(
    public id: number,
    public buf: Uint8Array,
    head: number,
    end: number,
  ) {
    this.head = head;
    this.end = end;
  }

  get len(): number {
    return this.end - this.head;
  }

  /** The valid bytes as a view (no copy). */
  data(): Uint8Array {
    return this.buf.subarray(this.head, this.end);
  }

  /** Makes room for `n` header bytes in front of the data, reallocating if the headroom is exhausted. */
  push(n: number): number {
    if (this.head < n) {
      const grown = new Uint8Array(this.end - this.head + n + SKB_HEADROOM);
      grown.set(this.buf.subarray(this.head, this.end), n + SKB_HEADROOM);
      const shift = n + SKB_HEADROOM - this.head;
      if (this.nh >= 0) this.nh += shift;
      if (this.th >= 0) this.th += shift;
      this.end += shift;
      this.head += shift;
      this.buf = grown;
    }
    this.head -= n;
    return this.head;
  }

  pull(n: number): number {
    this.head += n;
    return this.head;
  }

  /** A deep copy with a fresh buffer (used where Linux would skb_copy, e.g. flooding). Keeps the packet id. */
  copy(): Skb {
    const len = this.end - this.head;
    const b = allocBytes(len + SKB_HEADROOM);
    b.set(this.buf.subarray(this.head, this.end), SKB_HEADROOM);
    const c = new Skb(this.id, b, SKB_HEADROOM, SKB_HEADROOM + len);
    const shift = SKB_HEADROOM - this.head;
    c.nh = this.nh >= 0 ? this.nh + shift : -1;
    c.th = this.th >= 0 ? this.th + shift : -1;
    c.dev = this.dev;
    c.inDev = this.inDev;
    c.pktType = this.pktType;
    c.mark = this.mark;
    c.hops = this.hops;
    c.hash = this.hash;
    c.ext = { ...this.ext };
    return c;
  }

  /** Allocates a packet with `len` bytes after the standard headroom. */
  static alloc(id: number, len: number): Skb {
    return new Skb(id, allocBytes(len + SKB_HEADROOM), SKB_HEADROOM, SKB_HEADROOM + len);
  }
}

// Packet buffers are carved from 1 MiB slabs: a view on an existing ArrayBuffer is far cheaper to create than a
// fresh backing store, and a slab is reclaimed by the garbage collector once no packet refers to it.
const SLAB_SIZE = 1 << 20;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

export function allocBytes(n: number): Uint8Array {
  if (n > SLAB_SIZE / 8) return new Uint8Array(n);
  const size = (n + 7) & ~7;
  if (slabUsed + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const v = new Uint8Array(slab, slabUsed, n);
  slabUsed += size;
  return v;
}
