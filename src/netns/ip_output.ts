// The IPv4 output path (net/ipv4/ip_output.c): ip_local_out runs the OUTPUT hook (re-routing when netfilter changed
// the destination, as ip_route_me_harder), ip_output runs POSTROUTING, ip_finish_output fragments what exceeds the
// device MTU (packets with DF set are refused instead), and ip_finish_output2 hands the packet to the neighbour
// layer. Locally generated packets carry the namespace's IP identification counter.

import { formatIpv4, type Ipv4 } from '../wire/addr.js';
import { emitIpv4BaseHeader, IPV4_HLEN, ipDf, ipDst, ipTotalLen } from '../wire/ipv4.js';
import { dropSkb } from './dev.js';
import { ipFragment } from './ip_frag.js';
import type { NetDev } from './netdev.js';
import type { NetNs } from './netns.js';
import { describeOutputRoute, ipRouteOutput, type OutputRoute } from './route.js';
import { Skb } from './skb.js';

/** Where a packet goes next: the part of a route the output path needs. */
export interface NextHop {
  dev: NetDev;
  nexthop: Ipv4;
  mtu: number;
  broadcast: boolean;
}

export interface BuildIpOptions {
  src: Ipv4;
  dst: Ipv4;
  protocol: number;
  ttl?: number;
  tos?: number;
  df?: boolean;
  id?: number;
}

/** Next value of the namespace's IP ID counter (ip_select_ident, simplified to one counter per namespace). */
export function ipSelectIdent(ns: NetNs): number {
  ns.ipIdent = (ns.ipIdent + 1) & 0xffff;
  return ns.ipIdent;
}

/**
 * Allocates a packet with an IPv4 header and `l4len` bytes of transport data to be filled by the caller at the
 * returned skb's `th` offset. The header checksum is computed now, so fill the payload but not the IP header.
 */
export function allocIpPacket(ns: NetNs, o: BuildIpOptions, l4len: number): Skb {
  const skb = Skb.alloc(ns.kernel.nextPktId(), IPV4_HLEN + l4len);
  const h = skb.head;
  skb.nh = h;
  skb.th = h + IPV4_HLEN;
  // ip_select_ident: a DF packet from an unconnected socket carries id 0; others take the counter.
  const id = o.id ?? (o.df ? 0 : ipSelectIdent(ns));
  const ttl = o.ttl ?? ns.sysctl.ipDefaultTtl;
  emitIpv4BaseHeader(skb.buf, h, o.tos ?? 0, IPV4_HLEN + l4len, id, o.df ?? false, ttl, o.protocol, o.src, o.dst);
  return skb;
}

export function traceRoute(ns: NetNs, skb: Skb, dst: Ipv4, r: OutputRoute | string): void {
  const tr = ns.kernel.tracer;
  if (!tr.tracing) return;
  tr.emit(ns.name, skb.id, 'route', {
    dst: formatIpv4(dst),
    result: typeof r === 'string' ? r : describeOutputRoute(dst, r),
  });
}

/** ip_local_out for a packet whose header is complete; `rt` is the route the sender looked up. */
export function ipLocalOut(ns: NetNs, skb: Skb, rt: OutputRoute): void {
  const tr = ns.kernel.tracer;
  if (tr.tracing) tr.emit(ns.name, skb.id, 'stage', { stage: 'ipLocalOut', dev: rt.dev.name });
  skb.head = skb.nh;
  if (ns.hooks.has('OUTPUT')) {
    const dst0 = ipDst(skb.buf, skb.nh);
    const v = ns.hooks.run('OUTPUT', skb, { ns, hook: 'OUTPUT', inDev: null, outDev: rt.dev, bridged: false });
    if (v === 'stolen') return;
    if (v === 'drop') {
      dropSkb(ns, skb, 'NETFILTER_DROP', 'dropped in OUTPUT');
      return;
    }
    const dst1 = ipDst(skb.buf, skb.nh);
    if (dst1 !== dst0) {
      const r2 = ipRouteOutput(ns, dst1);
      if (typeof r2 === 'string') {
        dropSkb(ns, skb, 'NO_ROUTE', `re-route after OUTPUT to ${formatIpv4(dst1)}: ${r2}`);
        return;
      }
      traceRoute(ns, skb, dst1, r2);
      rt = r2;
    }
  }
  ipOutput(ns, skb, rt);
}

/** ip_output: POSTROUTING, then fragmentation and the neighbour layer. */
export function ipOutput(ns: NetNs, skb: Skb, hop: NextHop): void {
  if (ns.hooks.has('POSTROUTING')) {
    const v = ns.hooks.run('POSTROUTING', skb, {
      ns,
      hook: 'POSTROUTING',
      inDev: skb.inDev,
      outDev: hop.dev,
      bridged: false,
    });
    if (v === 'stolen') return;
    if (v === 'drop') {
      dropSkb(ns, skb, 'NETFILTER_DROP', 'dropped in POSTROUTING', hop.dev.name);
      return;
    }
  }
  ipFinishOutput(ns, skb, hop);
}

function ipFinishOutput(ns: NetNs, skb: Skb, hop: NextHop): void {
  const len = ipTotalLen(skb.buf, skb.nh);
  if (len > hop.mtu && hop.dev.kind !== 'loopback') {
    if (ipDf(skb.buf, skb.nh)) {
      dropSkb(ns, skb, 'PKT_TOO_BIG', `${len} bytes with DF exceed mtu ${hop.mtu} of ${hop.dev.name}`, hop.dev.name);
      return;
    }
    for (const frag of ipFragment(ns, skb, hop.mtu)) ns.neigh.output(hop.dev, hop.nexthop, frag, hop.broadcast);
    return;
  }
  ns.neigh.output(hop.dev, hop.nexthop, skb, hop.broadcast);
}
