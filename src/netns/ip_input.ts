// The IPv4 receive path (net/ipv4/ip_input.c, route.c): ip_rcv validates the header (version, length, checksum)
// and drops frames addressed to another host's MAC; PREROUTING runs; ip_rcv_finish routes the packet: to a local
// address → INPUT and the transport protocol, elsewhere → ip_forward, no route → ip_error, which answers ICMP
// unreachable only when forwarding is enabled on the input device (otherwise the drop is silent, as in Linux).

import { formatIpv4 } from '../wire/addr.js';
import { ETH_P_IP } from '../wire/ethernet.js';
import {
  ICMP_DEST_UNREACH,
  ICMP_HOST_UNREACH,
  ICMP_NET_UNREACH,
  ICMP_PKT_FILTERED,
  ICMP_PROT_UNREACH,
} from '../wire/icmp.js';
import {
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipDst,
  ipFragOffset,
  ipHeaderChecksumOk,
  ipHeaderLen,
  ipMf,
  ipProto,
  ipSrc,
  ipTotalLen,
} from '../wire/ipv4.js';
import { devAddPack, dropSkb } from './dev.js';
import { icmpRcv, icmpSend } from './icmp.js';
import { ipForward } from './ip_forward.js';
import { ipDefrag } from './ip_frag.js';
import type { NetNs } from './netns.js';
import { ipRouteInput, type RouteError } from './route.js';
import type { Skb } from './skb.js';
import { tcpV4Rcv } from './tcp.js';
import { udpRcv } from './udp.js';

/** Transport handlers by IP protocol (inet_protos); extensions may add more. */
const protos = new Map<number, (ns: NetNs, skb: Skb, broadcast: boolean) => void>([
  [IPPROTO_ICMP, icmpRcv],
  [IPPROTO_TCP, tcpV4Rcv],
  [IPPROTO_UDP, udpRcv],
]);

export function inetAddProtocol(proto: number, fn: (ns: NetNs, skb: Skb, broadcast: boolean) => void): void {
  protos.set(proto, fn);
}

export function ipRcv(ns: NetNs, skb: Skb): void {
  const dev = skb.dev!;
  const b = skb.buf;
  const nh = skb.nh;
  const avail = skb.end - nh;
  const tr = ns.kernel.tracer;
  if (tr.tracing) tr.emit(ns.name, skb.id, 'stage', { stage: 'ipRcv', dev: dev.name });
  if (skb.pktType === 'otherhost') {
    dropSkb(ns, skb, 'OTHERHOST', "frame addressed to another host's MAC", dev.name);
    return;
  }
  if (avail < 20 || b[nh]! >> 4 !== 4 || ipHeaderLen(b, nh) < 20 || avail < ipHeaderLen(b, nh)) {
    dropSkb(ns, skb, 'IP_INHDR', 'malformed IPv4 header', dev.name);
    return;
  }
  const total = ipTotalLen(b, nh);
  if (total > avail || total < ipHeaderLen(b, nh)) {
    dropSkb(ns, skb, 'IP_INHDR', `total length ${total} does not match ${avail} bytes received`, dev.name);
    return;
  }
  if (!ipHeaderChecksumOk(b, nh)) {
    dropSkb(ns, skb, 'IP_CSUM', 'bad IPv4 header checksum', dev.name);
    return;
  }
  skb.end = nh + total; // pskb_trim_rcsum: drop link-layer padding
  if (ns.hooks.has('PREROUTING')) {
    const v = ns.hooks.run('PREROUTING', skb, { ns, hook: 'PREROUTING', inDev: dev, outDev: null, bridged: false });
    if (v === 'stolen') return;
    if (v === 'drop') {
      dropSkb(ns, skb, 'NETFILTER_DROP', 'dropped in PREROUTING', dev.name);
      return;
    }
  }
  ipRcvFinish(ns, skb);
}

function ipRcvFinish(ns: NetNs, skb: Skb): void {
  const dev = skb.dev!;
  const b = skb.buf;
  const nh = skb.nh;
  const dst = ipDst(b, nh);
  const src = ipSrc(b, nh);
  const d = ipRouteInput(ns, dst, src, dev);
  const tr = ns.kernel.tracer;
  switch (d.kind) {
    case 'martian':
      dropSkb(ns, skb, 'MARTIAN_SOURCE', d.what, dev.name);
      return;
    case 'local':
      if (tr.tracing)
        tr.emit(ns.name, skb.id, 'route', {
          dst: formatIpv4(dst),
          result: d.broadcast
            ? `broadcast ${formatIpv4(dst)} dev ${dev.name}`
            : `local ${formatIpv4(dst)} dev ${dev.name}`,
        });
      ipLocalDeliver(ns, skb, d.broadcast);
      return;
    case 'forward':
      if (tr.tracing)
        tr.emit(ns.name, skb.id, 'route', {
          dst: formatIpv4(dst),
          result: `${formatIpv4(dst)}${d.route.gw !== null ? ` via ${formatIpv4(d.route.gw)}` : ''} dev ${d.dev.name} (forward)`,
        });
      ipForward(ns, skb, d.route);
      return;
    case 'error':
      ipError(ns, skb, d.error, d.forwarding);
      return;
  }
}

/** ip_error: the ICMP a router sends when it cannot route, or a silent drop when it does not forward. */
function ipError(ns: NetNs, skb: Skb, err: RouteError, forwarding: boolean): void {
  const dev = skb.dev!;
  const dst = formatIpv4(ipDst(skb.buf, skb.nh));
  if (!forwarding) {
    dropSkb(ns, skb, 'FORWARDING_DISABLED', `${dst} is not local and forwarding is off on ${dev.name}`, dev.name);
    return;
  }
  switch (err) {
    case 'EINVAL':
      dropSkb(ns, skb, 'BLACKHOLE', `blackhole route to ${dst}`, dev.name);
      return;
    case 'EHOSTUNREACH':
      icmpSend(ns, skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
      dropSkb(ns, skb, 'UNREACHABLE_ROUTE', `unreachable route to ${dst}`, dev.name);
      return;
    case 'ENETUNREACH':
      icmpSend(ns, skb, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0);
      dropSkb(ns, skb, 'NO_ROUTE', `no route to ${dst}`, dev.name);
      return;
    case 'EACCES':
      icmpSend(ns, skb, ICMP_DEST_UNREACH, ICMP_PKT_FILTERED, 0);
      dropSkb(ns, skb, 'PROHIBIT_ROUTE', `prohibit route to ${dst}`, dev.name);
      return;
  }
}

/** ip_local_deliver: reassembly, INPUT, then the transport protocol (ip_local_deliver_finish). */
export function ipLocalDeliver(ns: NetNs, skb: Skb, broadcast: boolean): void {
  if (ipMf(skb.buf, skb.nh) || ipFragOffset(skb.buf, skb.nh) !== 0) {
    const whole = ipDefrag(ns, skb);
    if (!whole) return;
    skb = whole;
  }
  const tr = ns.kernel.tracer;
  if (tr.tracing) tr.emit(ns.name, skb.id, 'stage', { stage: 'ipLocalDeliver', dev: skb.dev?.name ?? '' });
  if (ns.hooks.has('INPUT')) {
    const v = ns.hooks.run('INPUT', skb, { ns, hook: 'INPUT', inDev: skb.dev, outDev: null, bridged: false });
    if (v === 'stolen') return;
    if (v === 'drop') {
      dropSkb(ns, skb, 'NETFILTER_DROP', 'dropped in INPUT', skb.dev?.name);
      return;
    }
  }
  skb.th = skb.nh + ipHeaderLen(skb.buf, skb.nh);
  const proto = ipProto(skb.buf, skb.nh);
  const fn = protos.get(proto);
  if (!fn) {
    if (!broadcast) icmpSend(ns, skb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
    dropSkb(ns, skb, 'IP_NOPROTO', `no handler for IP protocol ${proto}`);
    return;
  }
  fn(ns, skb, broadcast);
}

devAddPack(ETH_P_IP, ipRcv);
