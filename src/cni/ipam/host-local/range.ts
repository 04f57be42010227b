// host-local's address ranges and range sets (containernetworking/plugins host-local allocator/range.go and
// range_set.go): a range is a subnet with an inclusive [rangeStart, rangeEnd] and a gateway; defaults are
// network+1 for start and gateway and broadcast−1 for end; /31 and /32 are "too small to allocate from"; a subnet
// with host bits set is refused; start and end must lie inside the subnet and be in order; ranges inside one set
// must not overlap. Checks run in the reference's order so that the same input gives the same first error.
// Deliberate difference: a rangeStart on the network address or a rangeEnd on the broadcast address is refused
// (the reference would hand those addresses out); podwire never allocates them. IPv4 only.

import { broadcastOf, formatIpv4, type Ipv4, inPrefix, networkOf } from '../../../wire/addr.js';
import { type CidrText, type IpText, ipv6Refused } from './decode.js';

export interface Range {
  /** Network address (host bits clear). */
  subnet: Ipv4;
  prefixLen: number;
  rangeStart: Ipv4;
  rangeEnd: Ipv4;
  gateway: Ipv4;
}

export type RangeSet = Range[];

/** A range as decoded from JSON, before defaults and validation. */
export interface RangeSpec {
  subnet?: CidrText;
  rangeStart?: IpText;
  rangeEnd?: IpText;
  gateway?: IpText;
}

function v4(ip: IpText, what: string): Ipv4 {
  if ('v6' in ip) throw ipv6Refused(`${what} ${ip.v6}`);
  return ip.v4;
}

/** Range.Contains: in the subnet and within whichever of start and end are already known. */
function containsPartial(subnet: Ipv4, len: number, start: Ipv4 | undefined, end: Ipv4 | undefined, a: Ipv4): boolean {
  if (!inPrefix(a, subnet, len)) return false;
  if (start !== undefined && a < start) return false;
  if (end !== undefined && a > end) return false;
  return true;
}

/** Range.Canonicalize: fills defaults and validates; throws the reference's messages. */
export function canonicalizeRange(spec: RangeSpec): Range {
  if (spec.subnet === undefined) throw new Error('IP <nil> not v4 nor v6');
  if ('v6' in spec.subnet) throw ipv6Refused(`subnet ${spec.subnet.v6}`);
  const cidr = spec.subnet.v4;
  const len = cidr.len;
  // A /31 or /32 leaves nothing once network and broadcast are set aside.
  if (len > 30) throw new Error(`Network ${formatIpv4(cidr.addr)}/${len} too small to allocate from`);
  const subnet = networkOf(cidr);
  if (subnet !== cidr.addr) {
    throw new Error(
      `Network has host bits set. For a subnet mask of length ${len} the network address is ${formatIpv4(subnet)}`,
    );
  }
  const net = `${formatIpv4(subnet)}/${len}`;
  const gateway = spec.gateway === undefined ? (subnet + 1) >>> 0 : v4(spec.gateway, 'gateway');

  let rangeStart: Ipv4;
  const givenEnd = spec.rangeEnd === undefined ? undefined : v4(spec.rangeEnd, 'rangeEnd');
  if (spec.rangeStart !== undefined) {
    rangeStart = v4(spec.rangeStart, 'rangeStart');
    // As in the reference, the start is checked against the configured end, so start > end reads as "not in network".
    if (!containsPartial(subnet, len, rangeStart, givenEnd, rangeStart)) {
      throw new Error(`RangeStart ${formatIpv4(rangeStart)} not in network ${net}`);
    }
  } else {
    rangeStart = (subnet + 1) >>> 0;
  }

  const broadcast = broadcastOf(cidr);
  let rangeEnd: Ipv4;
  if (givenEnd !== undefined) {
    if (!containsPartial(subnet, len, rangeStart, givenEnd, givenEnd)) {
      throw new Error(`RangeEnd ${formatIpv4(givenEnd)} not in network ${net}`);
    }
    rangeEnd = givenEnd;
  } else {
    rangeEnd = (broadcast - 1) >>> 0;
  }

  if (rangeStart === subnet) {
    throw new Error(
      `RangeStart ${formatIpv4(rangeStart)} is the network address of ${net}; podwire does not allocate it`,
    );
  }
  if (rangeEnd === broadcast) {
    throw new Error(
      `RangeEnd ${formatIpv4(rangeEnd)} is the broadcast address of ${net}; podwire does not allocate it`,
    );
  }
  return { subnet, prefixLen: len, rangeStart, rangeEnd, gateway };
}

export function rangeContains(r: Range, a: Ipv4): boolean {
  return containsPartial(r.subnet, r.prefixLen, r.rangeStart, r.rangeEnd, a);
}

/** Range.Overlaps: either range holds an end of the other. */
export function rangesOverlap(a: Range, b: Range): boolean {
  return (
    rangeContains(a, b.rangeStart) ||
    rangeContains(a, b.rangeEnd) ||
    rangeContains(b, a.rangeStart) ||
    rangeContains(b, a.rangeEnd)
  );
}

export function rangeString(r: Range): string {
  return `${formatIpv4(r.rangeStart)}-${formatIpv4(r.rangeEnd)}`;
}

/** RangeSet.Canonicalize. */
export function canonicalizeRangeSet(specs: RangeSpec[]): RangeSet {
  if (specs.length === 0) throw new Error('empty range set');
  const set = specs.map(canonicalizeRange);
  for (let i = 0; i < set.length - 1; i++) {
    for (let j = i + 1; j < set.length; j++) {
      if (rangesOverlap(set[i]!, set[j]!)) {
        throw new Error(`subnets ${rangeString(set[i]!)} and ${rangeString(set[j]!)} overlap`);
      }
    }
  }
  return set;
}

export function rangeFor(set: RangeSet, a: Ipv4): Range | undefined {
  for (const r of set) if (rangeContains(r, a)) return r;
  return undefined;
}

export function rangeSetContains(set: RangeSet, a: Ipv4): boolean {
  return rangeFor(set, a) !== undefined;
}

export function rangeSetsOverlap(a: RangeSet, b: RangeSet): boolean {
  return a.some((r) => b.some((r1) => rangesOverlap(r, r1)));
}

export function rangeSetString(set: RangeSet): string {
  return set.map(rangeString).join(',');
}
