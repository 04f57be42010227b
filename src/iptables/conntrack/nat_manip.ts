// Rewriting packets for NAT (nf_nat_proto.c). A packet is made to look like the inverse of the other direction's
// tuple: the source (or destination) address in the IPv4 header with csum_replace4 on the header checksum, and
// the port with the TCP/UDP checksum updated for the pseudo-header address and the port, exactly as the kernel
// does for a packet whose checksum is complete (so the bytes match Linux's). A UDP datagram without checksum keeps
// none; a UDP checksum that becomes 0 is sent as 0xffff. ICMP query ids are rewritten with the ICMP checksum.
// An ICMP error RELATED to a NATed connection has its quoted header rewritten (addresses, ports, inner
// checksums), its ICMP checksum recomputed, then its outer header translated (nf_nat_icmp_reply_translation).
// A TCP header cut short in a quote keeps its checksum (only the 8 bytes with the ports are guaranteed).

import { readU16, readU32, writeU16 } from '../../wire/addr.js';
import { checksumReplace32, internetChecksum } from '../../wire/checksum.js';
import { icmpChecksumOk } from '../../wire/icmp.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipSetDst, ipSetSrc } from '../../wire/ipv4.js';
import type { CtTuple } from '../types.js';
import type { Conn, DirIndex } from './conn.js';
import type { Manip } from './nat_range.js';
import { invertTuple } from './tuple.js';

const ICMP_QUERY_TYPES = new Set([0, 8, 13, 14, 15, 16, 17, 18]);

/** inet_proto_csum_replace4 for a complete checksum (csum_replace4); also used for 16-bit fields, as the kernel's
 *  inet_proto_csum_replace2 does. */
function csumReplace(b: Uint8Array, at: number, from: number, to: number): void {
  writeU16(b, at, checksumReplace32(readU16(b, at), from >>> 0, to >>> 0));
}

/** nf_csum_update: the pseudo-header address changes in the transport checksum at `at`. */
function pseudoUpdate(b: Uint8Array, iph: number, at: number, target: CtTuple, manip: Manip): void {
  const oldIp = readU32(b, iph + (manip === 'SRC' ? 12 : 16));
  const newIp = manip === 'SRC' ? target.src : target.dst;
  csumReplace(b, at, oldIp, newIp);
}

/** l4proto_manip_pkt; false when the header is too short to rewrite (the packet is then dropped). */
function l4Manip(b: Uint8Array, iph: number, hdr: number, end: number, target: CtTuple, manip: Manip): boolean {
  switch (target.proto) {
    case IPPROTO_TCP: {
      if (end < hdr + 8) return false;
      const portAt = hdr + (manip === 'SRC' ? 0 : 2);
      const oldPort = readU16(b, portAt);
      const newPort = manip === 'SRC' ? target.sport : target.dport;
      writeU16(b, portAt, newPort);
      if (end < hdr + 20) return true;
      pseudoUpdate(b, iph, hdr + 16, target, manip);
      csumReplace(b, hdr + 16, oldPort, newPort);
      return true;
    }
    case IPPROTO_UDP: {
      if (end < hdr + 8) return false;
      const portAt = hdr + (manip === 'SRC' ? 0 : 2);
      const newPort = manip === 'SRC' ? target.sport : target.dport;
      if (readU16(b, hdr + 6) !== 0) {
        pseudoUpdate(b, iph, hdr + 6, target, manip);
        csumReplace(b, hdr + 6, readU16(b, portAt), newPort);
        if (readU16(b, hdr + 6) === 0) writeU16(b, hdr + 6, 0xffff);
      }
      writeU16(b, portAt, newPort);
      return true;
    }
    case IPPROTO_ICMP: {
      if (end < hdr + 8) return false;
      if (!ICMP_QUERY_TYPES.has(b[hdr]!)) return true;
      csumReplace(b, hdr + 2, readU16(b, hdr + 4), target.sport);
      writeU16(b, hdr + 4, target.sport);
      return true;
    }
    default:
      return true;
  }
}

/** nf_nat_ipv4_manip_pkt: rewrite the IPv4 packet (or quoted header) at `iph` toward `target`. */
export function manipPkt(b: Uint8Array, iph: number, end: number, target: CtTuple, manip: Manip): boolean {
  if (end < iph + 20) return false;
  const hdr = iph + (b[iph]! & 0x0f) * 4;
  if (!l4Manip(b, iph, hdr, end, target, manip)) return false;
  if (manip === 'SRC') ipSetSrc(b, iph, target.src);
  else ipSetDst(b, iph, target.dst);
  return true;
}

/** nf_nat_manip_pkt: the packet is made to look like the inverse of the other direction's tuple. */
export function natManipPacket(
  b: Uint8Array,
  nh: number,
  end: number,
  conn: Conn,
  dir: DirIndex,
  manip: Manip,
): boolean {
  const target = invertTuple(conn.tuple(dir === 0 ? 1 : 0));
  if (!target) return false;
  return manipPkt(b, nh, end, target, manip);
}

/**
 * nf_nat_icmp_reply_translation for the ICMP error at `nh` RELATED to `conn` in direction `dir`, at a hook doing
 * `manip`. false: drop (bad checksum, unwritable quote, or a redirect about a NATed connection).
 */
export function icmpReplyTranslation(
  b: Uint8Array,
  nh: number,
  end: number,
  conn: Conn,
  dir: DirIndex,
  manip: Manip,
): boolean {
  const th = nh + (b[nh]! & 0x0f) * 4;
  if (end < th + 8 + 20) return false;
  if (!icmpChecksumOk(b, th, end - th)) return false;
  const s = conn.status;
  if (b[th] === 5) {
    if (!(s.srcNatDone && s.dstNatDone)) return false;
    if (s.srcNat || s.dstNat) return false;
  }
  const applies = dir === 0 ? (manip === 'SRC' ? s.srcNat : s.dstNat) : manip === 'SRC' ? s.dstNat : s.srcNat;
  if (!applies) return true;
  const other = conn.tuple(dir === 0 ? 1 : 0);
  // The quoted packet went the other way: it gets the opposite manip toward the other direction's tuple.
  if (!manipPkt(b, th + 8, end, other, manip === 'SRC' ? 'DST' : 'SRC')) return false;
  writeU16(b, th + 2, 0);
  writeU16(b, th + 2, internetChecksum(b, th, end - th));
  const target = invertTuple(other);
  if (!target) return false;
  return manipPkt(b, nh, end, { ...target, proto: IPPROTO_ICMP }, manip);
}
