// ClusterIP allocation from the service CIDR (--service-cluster-ip-range, default 10.96.0.0/12) as the API server's
// ipallocator.Range does it: the network and broadcast addresses are never handed out, offsets count from
// network+1, and the lower part of the range — min(max(16, size/16), 256) addresses — is a static band kept for
// clusterIPs users ask for by value; automatic allocation picks a random free address of the upper band first
// (allocator/bitmap.ts). The first address (10.96.0.1) is what the `kubernetes` Service gets.
// Errors carry upstream's text: "provided IP is already allocated", "the provided IP (…) is not in the valid range.
// The range of valid IPs is …", "range is full".
// Limits: IPv4 only, one range (no ServiceCIDR objects, no dual stack).

import type { Rng } from '../../sim/rng.js';
import type { Cidr, Ipv4 } from '../../wire/addr.js';
import { broadcastOf, formatCidr, formatIpv4, inPrefix, networkOf, parseCidr } from '../../wire/addr.js';
import { parseIpSloppy } from '../validate/names.js';
import { AllocationBitmap } from './bitmap.js';

/** An allocator refusal, worded as the API server words it. */
export class AllocationError extends Error {
  override readonly name = 'AllocationError';
}

export const ERR_IP_ALLOCATED = 'provided IP is already allocated';
export const ERR_FULL = 'range is full';

/** min(max(16, size/16), 256), or 0 for ranges of 16 addresses or fewer. */
export function ipRangeOffset(size: number): number {
  if (size <= 16) return 0;
  return Math.min(Math.max(16, Math.floor(size / 16)), 256);
}

export class ClusterIpAllocator {
  readonly cidr: Cidr;
  /** First allocatable address (network + 1). */
  readonly base: Ipv4;
  readonly max: number;
  private readonly bitmap: AllocationBitmap;

  constructor(range: string, rng: Rng) {
    const c = parseCidr(range);
    if (c === null || !range.includes('/')) throw new RangeError(`invalid service CIDR "${range}"`);
    this.cidr = { addr: networkOf(c), len: c.len };
    const size = 2 ** (32 - c.len);
    this.base = (this.cidr.addr + 1) >>> 0;
    this.max = Math.max(0, size - 2);
    this.bitmap = new AllocationBitmap(this.max, this.max === 0 ? 0 : ipRangeOffset(size), rng);
  }

  toString(): string {
    return formatCidr(this.cidr);
  }

  /** The address at offset `i` of the range (0 = network + 1). */
  at(i: number): string {
    return formatIpv4((this.base + i) >>> 0);
  }

  private offsetOf(ip: string): number | undefined {
    const p = parseIpSloppy(ip);
    if (p?.v4 === undefined || !inPrefix(p.v4, this.cidr.addr, this.cidr.len)) return undefined;
    if (p.v4 === this.cidr.addr || p.v4 === broadcastOf(this.cidr)) return undefined;
    const off = p.v4 - this.base;
    return off >= 0 && off < this.max ? off : undefined;
  }

  contains(ip: string): boolean {
    return this.offsetOf(ip) !== undefined;
  }

  has(ip: string): boolean {
    const off = this.offsetOf(ip);
    return off !== undefined && this.bitmap.has(off);
  }

  /** Reserves `ip`; throws AllocationError when it is taken or outside the range. */
  allocate(ip: string): void {
    const off = this.offsetOf(ip);
    if (off === undefined) {
      throw new AllocationError(
        `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.toString()}`,
      );
    }
    if (!this.bitmap.allocate(off)) throw new AllocationError(ERR_IP_ALLOCATED);
  }

  /** Reserves a free address, upper band first; throws AllocationError "range is full". */
  allocateNext(): string {
    const off = this.bitmap.allocateNext();
    if (off === undefined) throw new AllocationError(ERR_FULL);
    return this.at(off);
  }

  /** Releasing an address that is free or outside the range is a no-op, as upstream. */
  release(ip: string): void {
    const off = this.offsetOf(ip);
    if (off !== undefined) this.bitmap.release(off);
  }

  get used(): number {
    return this.bitmap.used;
  }

  get staticBand(): number {
    return this.bitmap.offset;
  }
}
