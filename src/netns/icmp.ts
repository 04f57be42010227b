// ICMP in the stack (net/ipv4/icmp.c): answering echo requests and generating errors. icmp_send never answers an
// ICMP error, a non-first fragment, or a packet to or from a broadcast/multicast address; it quotes the offending
// IP header and as much data as keeps the error within 576 bytes; the error's source is the original destination
// when that was one of our addresses, otherwise the address routing picks toward the original sender; TOS is
// 0xc0 (internetwork control), no DF. Received errors and echo replies go to the socket layer.
// Limits: no rate limiting (icmp_ratelimit / icmp_msgs_per_sec), no redirects, no timestamp or address-mask messages.

import { formatIpv4, type Ipv4, readU32 } from '../wire/addr.js';
import {
  emitIcmpHeader,
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_ECHOREPLY,
  ICMP_HLEN,
  ICMP_TIME_EXCEEDED,
  icmpChecksumOk,
  icmpErrorQuoteLen,
  icmpTypeName,
} from '../wire/icmp.js';
import { IPPROTO_ICMP, ipDst, ipFragOffset, ipHeaderLen, ipProto, ipSrc, ipTos, ipTotalLen } from '../wire/ipv4.js';
import { dropSkb } from './dev.js';
import { isLocalAddr } from './ifaddr.js';
import { allocIpPacket, ipLocalOut, traceRoute } from './ip_output.js';
import type { NetNs } from './netns.js';
import { ipRouteOutput } from './route.js';
import type { Skb } from './skb.js';

const ERROR_TYPES = new Set([ICMP_DEST_UNREACH, 4, 5, ICMP_TIME_EXCEEDED, 12]);

function isBroadcastOrMulticast(ns: NetNs, a: Ipv4): boolean {
  if (a === 0xffffffff || a >>> 28 === 0xe) return true;
  const r = ns.fib.lookupTable(255, a);
  return r !== null && r.type === 'broadcast';
}

/** icmp_send: an ICMP error about `skbIn` (skbIn.nh at its IP header). `info` is the MTU for frag-needed. */
export function icmpSend(
  ns: NetNs,
  skbIn: Skb,
  type: number,
  code: number,
  info: number,
  /** Called with the error before it is sent (netfilter attaches the offending packet's connection: nf_ct_attach). */
  attach?: (out: Skb) => void,
): void {
  const b = skbIn.buf;
  const nh = skbIn.nh;
  if (nh < 0) return;
  const src = ipSrc(b, nh);
  const dst = ipDst(b, nh);
  const tr = ns.kernel.tracer;
  const why = (r: string) => {
    if (tr.tracing) tr.emit(ns.name, skbIn.id, 'stage', { stage: 'icmpSend', detail: `no ICMP error: ${r}` });
  };
  if (skbIn.pktType !== 'host') {
    why('packet was not addressed to this host');
    return;
  }
  if (isBroadcastOrMulticast(ns, dst)) {
    why('destination is broadcast/multicast');
    return;
  }
  if (src === 0 || isBroadcastOrMulticast(ns, src)) {
    why('source is zero/broadcast/multicast');
    return;
  }
  if (ipFragOffset(b, nh) !== 0) {
    why('not the first fragment');
    return;
  }
  if (ipProto(b, nh) === IPPROTO_ICMP) {
    const hl = ipHeaderLen(b, nh);
    const t = b[nh + hl]!;
    if (ERROR_TYPES.has(t) || t > 18) {
      why('never answer an ICMP error with an error');
      return;
    }
  }
  // Source: the original destination when it is ours, else what routing picks toward the sender.
  const saddr = isLocalAddr(ns, dst) ? dst : null;
  const rt = ipRouteOutput(ns, src, saddr);
  if (typeof rt === 'string') {
    why(`no route back to ${formatIpv4(src)} (${rt})`);
    return;
  }
  const origLen = Math.min(ipTotalLen(b, nh), skbIn.end - nh);
  const quote = icmpErrorQuoteLen(origLen);
  const out = allocIpPacket(
    ns,
    { src: rt.src, dst: src, protocol: IPPROTO_ICMP, tos: (ipTos(b, nh) & 0x1e) | 0xc0, df: false },
    ICMP_HLEN + quote,
  );
  out.buf.set(b.subarray(nh, nh + quote), out.th + ICMP_HLEN);
  emitIcmpHeader(
    out.buf,
    out.th,
    type,
    code,
    type === ICMP_DEST_UNREACH && code === 4 ? info & 0xffff : 0,
    ICMP_HLEN + quote,
  );
  if (tr.tracing)
    tr.emit(ns.name, out.id, 'icmp', {
      action: 'send',
      kind: icmpTypeName(type, code),
      to: formatIpv4(src),
      reason: `about packet ${skbIn.id} ${formatIpv4(src)} > ${formatIpv4(dst)}`,
    });
  attach?.(out);
  traceRoute(ns, out, src, rt);
  ipLocalOut(ns, out, rt);
}

/** icmp_rcv: echo requests are answered here; replies and errors go to sockets. */
export function icmpRcv(ns: NetNs, skb: Skb, broadcast: boolean): void {
  const b = skb.buf;
  const nh = skb.nh;
  const th = skb.th;
  const len = ipTotalLen(b, nh) - (th - nh);
  if (len < ICMP_HLEN || !icmpChecksumOk(b, th, len)) {
    dropSkb(ns, skb, 'IP_INHDR', 'bad ICMP checksum or length');
    return;
  }
  const type = b[th]!;
  if (type === ICMP_ECHO) {
    if (ns.sysctl.icmpEchoIgnoreAll || (broadcast && ns.sysctl.icmpEchoIgnoreBroadcasts)) {
      dropSkb(ns, skb, 'NO_SOCKET', broadcast ? 'echo to broadcast ignored' : 'icmp_echo_ignore_all is set');
      return;
    }
    icmpEchoReply(ns, skb, len, broadcast);
    return;
  }
  if (type === ICMP_ECHOREPLY || ERROR_TYPES.has(type)) {
    ns.sockets.icmpDeliver(skb, type, b[th + 1]!, readU32(b, th + 4), len);
    return;
  }
  dropSkb(ns, skb, 'UNHANDLED_PROTO', `ICMP type ${type} is not handled`);
}

function icmpEchoReply(ns: NetNs, skb: Skb, len: number, broadcast: boolean): void {
  const b = skb.buf;
  const nh = skb.nh;
  const src = ipSrc(b, nh);
  const dst = ipDst(b, nh);
  const rt = ipRouteOutput(ns, src, broadcast ? null : dst);
  if (typeof rt === 'string') {
    dropSkb(ns, skb, 'NO_ROUTE', `no route to answer ${formatIpv4(src)}: ${rt}`);
    return;
  }
  const out = allocIpPacket(ns, { src: rt.src, dst: src, protocol: IPPROTO_ICMP, tos: ipTos(b, nh), df: false }, len);
  out.buf.set(b.subarray(skb.th, skb.th + len), out.th);
  emitIcmpHeader(out.buf, out.th, ICMP_ECHOREPLY, 0, readU32(b, skb.th + 4), len);
  const tr = ns.kernel.tracer;
  if (tr.tracing)
    tr.emit(ns.name, out.id, 'sock', {
      proto: 'icmp',
      action: 'echo-reply',
      detail: `answering echo request ${skb.id} from ${formatIpv4(src)}`,
    });
  traceRoute(ns, out, src, rt);
  ipLocalOut(ns, out, rt);
}
