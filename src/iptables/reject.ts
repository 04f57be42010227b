// The REJECT target's replies (net/ipv4/netfilter/nf_reject_ipv4.c): `tcp-reset` builds a RST answering the
// offending segment (seq = its ACK number if it had ACK, else 0 with ACK = its sequence plus its length), sourced
// from the segment's destination — even when that address is not ours, as for a forwarded packet — with DF set,
// IP id 0 and the default TTL; every `icmp-*` value sends an ICMP destination unreachable through icmp_send with
// the matching code. Neither answers a RST, a non-first fragment, or (for ICMP) another ICMP error.

import { icmpSend } from '../netns/icmp.js';
import { allocIpPacket, ipLocalOut, traceRoute } from '../netns/ip_output.js';
import type { NetNs } from '../netns/netns.js';
import { ipRouteOutput } from '../netns/route.js';
import type { Skb } from '../netns/skb.js';
import { readU16, readU32 } from '../wire/addr.js';
import { ICMP_DEST_UNREACH } from '../wire/icmp.js';
import { IPPROTO_TCP, ipDst, ipFragOffset, ipHeaderLen, ipProto, ipSrc, ipTotalLen } from '../wire/ipv4.js';
import { emitTcpHeader, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../wire/tcp.js';
import type { RejectWith } from './types.js';

const ICMP_CODES: Record<Exclude<RejectWith, 'tcp-reset'>, number> = {
  'icmp-net-unreachable': 0,
  'icmp-host-unreachable': 1,
  'icmp-proto-unreachable': 2,
  'icmp-port-unreachable': 3,
  'icmp-net-prohibited': 9,
  'icmp-host-prohibited': 10,
  'icmp-admin-prohibited': 13,
};

/** `attach` lets conntrack tie the reply to the rejected packet's connection (nf_ct_attach). */
export function nfReject(ns: NetNs, skb: Skb, kind: RejectWith, attach?: (out: Skb) => void): void {
  if (kind === 'tcp-reset') nfSendReset(ns, skb, attach);
  else icmpSend(ns, skb, ICMP_DEST_UNREACH, ICMP_CODES[kind], 0, attach);
}

/** nf_send_reset. */
export function nfSendReset(ns: NetNs, skbIn: Skb, attach?: (out: Skb) => void): void {
  const b = skbIn.buf;
  const nh = skbIn.nh;
  if (ipProto(b, nh) !== IPPROTO_TCP || ipFragOffset(b, nh) !== 0) return;
  const th = nh + ipHeaderLen(b, nh);
  const tcpLen = ipTotalLen(b, nh) - (th - nh);
  if (tcpLen < 20) return;
  const flags = b[th + 13]!;
  if (flags & TCP_RST) return;
  const src = ipDst(b, nh);
  const dst = ipSrc(b, nh);
  const sport = readU16(b, th + 2);
  const dport = readU16(b, th);
  const dataLen = tcpLen - ((b[th + 12]! >> 4) << 2);
  let seq = 0;
  let ack = 0;
  let outFlags = TCP_RST;
  if (flags & TCP_ACK) seq = readU32(b, th + 8);
  else {
    ack = (readU32(b, th + 4) + dataLen + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0)) >>> 0;
    outFlags |= TCP_ACK;
  }
  const rt = ipRouteOutput(ns, dst, src, null, true);
  if (typeof rt === 'string') return;
  const out = allocIpPacket(ns, { src, dst, protocol: IPPROTO_TCP, df: true, id: 0 }, 20);
  emitTcpHeader(
    out.buf,
    out.th,
    { srcPort: sport, dstPort: dport, seq, ack, flags: outFlags, window: 0, options: {} },
    0,
    src,
    dst,
  );
  const tr = ns.kernel.tracer;
  if (tr.tracing)
    tr.emit(ns.name, out.id, 'sock', {
      proto: 'tcp',
      action: 'reset',
      detail: `REJECT --reject-with tcp-reset answering packet ${skbIn.id}`,
    });
  attach?.(out);
  traceRoute(ns, out, dst, rt);
  ipLocalOut(ns, out, rt);
}
