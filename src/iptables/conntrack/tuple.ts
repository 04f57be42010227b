// Conntrack tuples (struct nf_conntrack_tuple) for IPv4: protocol, addresses and the per-protocol part — ports for
// TCP and UDP, echo id plus type/code for ICMP (id in `sport`, type << 8 | code in `dport`), nothing for every
// other protocol (nf_conntrack_proto_generic). Extraction follows nf_ct_get_tuple/ipv4_get_l4proto: a non-first
// fragment or a header cut short yields no tuple. Inversion follows nf_ct_invert_tuple, with ICMP's request↔reply
// type map (only echo, timestamp, info and address-mask messages can start a connection).
// Limits: SCTP, DCCP, UDP-Lite and GRE are tracked generically (no ports or keys), unlike Linux's own trackers.

import { formatIpv4, readU16, readU32 } from '../../wire/addr.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../wire/ipv4.js';
import type { CtTuple } from '../types.js';

/** ICMP request/reply types and their counterpart (icmp invmap). */
const ICMP_INVERSE: Readonly<Record<number, number>> = {
  8: 0,
  0: 8,
  13: 14,
  14: 13,
  15: 16,
  16: 15,
  17: 18,
  18: 17,
};

export function hasPorts(proto: number): boolean {
  return proto === IPPROTO_TCP || proto === IPPROTO_UDP;
}

/** Hash key of a tuple (both directions of every entry are stored under their key). */
export function tupleKey(t: CtTuple): string {
  return `${t.proto}/${t.src}/${t.dst}/${t.sport}/${t.dport}`;
}

/** Key of nf_nat_bysource: the original source (protocol, address, port or ICMP id). */
export function srcKey(t: CtTuple): string {
  return `${t.proto}/${t.src}/${t.sport}`;
}

export function tupleEqual(a: CtTuple, b: CtTuple): boolean {
  return a.proto === b.proto && a.src === b.src && a.dst === b.dst && a.sport === b.sport && a.dport === b.dport;
}

export function copyTuple(t: CtTuple): CtTuple {
  return { proto: t.proto, src: t.src, dst: t.dst, sport: t.sport, dport: t.dport };
}

/** nf_ct_invert_tuple; null for ICMP types that have no reply (they cannot be tracked). */
export function invertTuple(t: CtTuple): CtTuple | null {
  if (t.proto === IPPROTO_ICMP) {
    const inv = ICMP_INVERSE[t.dport >> 8];
    if (inv === undefined) return null;
    return { proto: t.proto, src: t.dst, dst: t.src, sport: t.sport, dport: (inv << 8) | (t.dport & 0xff) };
  }
  return { proto: t.proto, src: t.dst, dst: t.src, sport: t.dport, dport: t.sport };
}

export interface L4Location {
  proto: number;
  /** Offset of the transport header. */
  dataoff: number;
}

/**
 * ipv4_get_l4proto: the protocol and transport offset of the IPv4 header at `nh`, or null for a non-first
 * fragment or a header longer than the data. `end` bounds the data (the end of the packet or of an ICMP quote).
 */
export function ipv4L4(b: Uint8Array, nh: number, end: number): L4Location | null {
  if (end - nh < 20) return null;
  if ((readU16(b, nh + 6) & 0x1fff) !== 0) return null;
  const dataoff = nh + (b[nh]! & 0x0f) * 4;
  if (dataoff > end) return null;
  return { proto: b[nh + 9]!, dataoff };
}

/** nf_ct_get_tuple: null when the transport header is too short to hold the ports (or ICMP's 8 bytes). */
export function pktToTuple(b: Uint8Array, nh: number, l4: L4Location, end: number): CtTuple | null {
  const src = readU32(b, nh + 12);
  const dst = readU32(b, nh + 16);
  const o = l4.dataoff;
  if (hasPorts(l4.proto)) {
    if (end - o < 4) return null;
    return { proto: l4.proto, src, dst, sport: readU16(b, o), dport: readU16(b, o + 2) };
  }
  if (l4.proto === IPPROTO_ICMP) {
    if (end - o < 8) return null;
    return { proto: l4.proto, src, dst, sport: readU16(b, o + 4), dport: (b[o]! << 8) | b[o + 1]! };
  }
  return { proto: l4.proto, src, dst, sport: 0, dport: 0 };
}

/** The tuple as `conntrack -L` prints it: `src=… dst=… sport=… dport=…`, ICMP `type= code= id=`. */
export function formatTupleFields(t: CtTuple): string {
  const base = `src=${formatIpv4(t.src)} dst=${formatIpv4(t.dst)}`;
  if (hasPorts(t.proto)) return `${base} sport=${t.sport} dport=${t.dport}`;
  if (t.proto === IPPROTO_ICMP) return `${base} type=${t.dport >> 8} code=${t.dport & 0xff} id=${t.sport}`;
  return base;
}

/** A short form for traces: `tcp 10.0.0.1:40000 → 10.0.0.2:80`. */
export function formatTupleShort(t: CtTuple): string {
  const name =
    t.proto === IPPROTO_TCP
      ? 'tcp'
      : t.proto === IPPROTO_UDP
        ? 'udp'
        : t.proto === IPPROTO_ICMP
          ? 'icmp'
          : `proto ${t.proto}`;
  if (hasPorts(t.proto)) return `${name} ${formatIpv4(t.src)}:${t.sport} → ${formatIpv4(t.dst)}:${t.dport}`;
  if (t.proto === IPPROTO_ICMP)
    return `${name} ${formatIpv4(t.src)} → ${formatIpv4(t.dst)} type ${t.dport >> 8} code ${t.dport & 0xff} id ${t.sport}`;
  return `${name} ${formatIpv4(t.src)} → ${formatIpv4(t.dst)}`;
}
