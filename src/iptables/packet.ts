// Reads the fields matches test from a packet's bytes into the per-traversal context (what xt_match functions read
// through skb_header_pointer): protocol, addresses, ports, TCP flags, ICMP type/code, fragment offset, length.
// Read once per table traversal, after any NAT rewrite of an earlier table, so each table sees the current bytes.

import type { Skb } from '../netns/skb.js';
import { readU16 } from '../wire/addr.js';
import {
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipDst,
  ipFragOffset,
  ipHeaderLen,
  ipSrc,
  ipTotalLen,
} from '../wire/ipv4.js';

export interface PacketFields {
  proto: number;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  tcpFlags: number;
  icmpType: number;
  icmpCode: number;
  fragment: boolean;
  len: number;
}

/** SCTP's common header starts with the two ports, like TCP and UDP. */
const IPPROTO_SCTP = 132;

export function readPacketFields(skb: Skb, out: PacketFields): void {
  const b = skb.buf;
  const nh = skb.nh;
  out.proto = b[nh + 9]!;
  out.src = ipSrc(b, nh);
  out.dst = ipDst(b, nh);
  out.len = ipTotalLen(b, nh);
  out.fragment = ipFragOffset(b, nh) !== 0;
  out.sport = 0;
  out.dport = 0;
  out.tcpFlags = 0;
  out.icmpType = -1;
  out.icmpCode = -1;
  if (out.fragment) return;
  const th = nh + ipHeaderLen(b, nh);
  const avail = Math.min(skb.end, nh + out.len) - th;
  if (out.proto === IPPROTO_TCP || out.proto === IPPROTO_UDP || out.proto === IPPROTO_SCTP) {
    if (avail >= 4) {
      out.sport = readU16(b, th);
      out.dport = readU16(b, th + 2);
    }
    if (out.proto === IPPROTO_TCP && avail >= 14) out.tcpFlags = b[th + 13]!;
  } else if (out.proto === IPPROTO_ICMP && avail >= 2) {
    out.icmpType = b[th]!;
    out.icmpCode = b[th + 1]!;
    if (avail >= 6) out.sport = readU16(b, th + 4);
  }
}
