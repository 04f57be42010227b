// host-local's allocator for one range set (containernetworking/plugins host-local allocator.go). Without a
// requested address it walks round-robin: from the address after `last_reserved_ip.<N>` (when that address is still
// in the set), through the end of its range, on to the next range of the set, wrapping to the first, until it is
// back where it began; the gateway is skipped; the first address whose file can be created wins. So a crash-looping
// pod does not get the same address again until the set has gone round. Each ADD costs the number of taken
// addresses it steps over, not the size of the set. A requested address must lie in a range, must not be the
// gateway, and must be free. A container that already holds an address of this set on this interface is refused.
// Limits: IPv4 only; errors are plain Errors carrying the reference's messages (the plugin wraps them).

import { formatIpv4, type Ipv4 } from '../../../wire/addr.js';
import { type Range, type RangeSet, rangeContains, rangeFor, rangeSetContains, rangeSetString } from './range.js';
import type { DiskStore } from './store.js';

export interface Allocated {
  address: Ipv4;
  prefixLen: number;
  gateway: Ipv4;
}

/** RangeIter: the round-robin walk over a set, starting after the last reserved address. */
export class RangeIter {
  private rangeIdx = 0;
  private cur: Ipv4 | null = null;
  private startIp: Ipv4 | null = null;

  constructor(
    private readonly set: RangeSet,
    lastReserved: Ipv4 | null,
  ) {
    if (lastReserved !== null) {
      const i = set.findIndex((r) => rangeContains(r, lastReserved));
      if (i >= 0) {
        this.rangeIdx = i;
        // The first step advances past it, so the walk begins just after the last reserved address.
        this.cur = lastReserved;
      }
    }
  }

  /** The next candidate and its range, or null once the walk is back at its first address. */
  next(): { address: Ipv4; range: Range } | null {
    let r = this.set[this.rangeIdx]!;
    if (this.cur === null) {
      this.cur = r.rangeStart;
      this.startIp = this.cur;
      if (this.cur !== r.gateway) return { address: this.cur, range: r };
    }
    for (;;) {
      if (this.cur === r.rangeEnd) {
        this.rangeIdx = (this.rangeIdx + 1) % this.set.length;
        r = this.set[this.rangeIdx]!;
        this.cur = r.rangeStart;
      } else {
        this.cur = (this.cur! + 1) >>> 0;
      }
      if (this.startIp === null) this.startIp = this.cur;
      else if (this.cur === this.startIp) return null;
      if (this.cur !== r.gateway) return { address: this.cur, range: r };
    }
  }
}

export class IpAllocator {
  constructor(
    private readonly set: RangeSet,
    private readonly store: DiskStore,
    /** The range set's index: names `last_reserved_ip.<N>`. */
    private readonly rangeId: number,
  ) {}

  get(id: string, ifname: string, requested: Ipv4 | null): Allocated {
    if (requested !== null) {
      const r = rangeFor(this.set, requested);
      if (r === undefined) {
        throw new Error(`${formatIpv4(requested)} not in range set ${rangeSetString(this.set)}`);
      }
      if (requested === r.gateway) throw new Error(`requested ip ${formatIpv4(requested)} is subnet's gateway`);
      if (!this.store.reserve(id, ifname, requested, this.rangeId)) {
        throw new Error(
          `requested IP address ${formatIpv4(requested)} is not available in range set ${rangeSetString(this.set)}`,
        );
      }
      return { address: requested, prefixLen: r.prefixLen, gateway: r.gateway };
    }

    // The specification forbids a second allocation for the same container and interface.
    for (const ip of this.store.getById(id, ifname)) {
      if (rangeSetContains(this.set, ip)) {
        throw new Error(`${formatIpv4(ip)} has been allocated to ${id}, duplicate allocation is not allowed`);
      }
    }

    const iter = new RangeIter(this.set, this.store.lastReservedIp(this.rangeId));
    for (let c = iter.next(); c !== null; c = iter.next()) {
      if (this.store.reserve(id, ifname, c.address, this.rangeId)) {
        return { address: c.address, prefixLen: c.range.prefixLen, gateway: c.range.gateway };
      }
    }
    throw new Error(`no IP addresses available in range set: ${rangeSetString(this.set)}`);
  }

  /** Releases every address of this container and interface in the store (not only this set's). */
  release(id: string, ifname: string): void {
    this.store.releaseById(id, ifname);
  }
}
