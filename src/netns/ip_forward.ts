// ip_forward (net/ipv4/ip_forward.c): only packets addressed to our MAC are forwarded; TTL ≤ 1 → ICMP time
// exceeded; a DF packet larger than the next hop's MTU → ICMP fragmentation needed with that MTU; otherwise the TTL
// is decremented (with the incremental checksum update of ip_decrease_ttl), FORWARD runs, and the packet leaves
// through ip_output. Limits: no ICMP redirects, no IP options processing (record route, source route).

import { formatIpv4 } from '../wire/addr.js';
import { ICMP_DEST_UNREACH, ICMP_EXC_TTL, ICMP_FRAG_NEEDED, ICMP_TIME_EXCEEDED } from '../wire/icmp.js';
import { ipDecreaseTtl, ipDf, ipDst, ipTotalLen, ipTtl } from '../wire/ipv4.js';
import { dropSkb } from './dev.js';
import type { Route } from './fib.js';
import { icmpSend } from './icmp.js';
import { ipOutput, type NextHop } from './ip_output.js';
import type { NetNs } from './netns.js';
import type { Skb } from './skb.js';

export function ipForward(ns: NetNs, skb: Skb, route: Route): void {
  const b = skb.buf;
  const nh = skb.nh;
  const inDev = skb.dev!;
  const tr = ns.kernel.tracer;
  if (tr.tracing) tr.emit(ns.name, skb.id, 'stage', { stage: 'ipForward', dev: inDev.name });
  if (skb.pktType !== 'host') {
    dropSkb(ns, skb, 'OTHERHOST', 'only unicast frames to our MAC are forwarded', inDev.name);
    return;
  }
  if (ipTtl(b, nh) <= 1) {
    icmpSend(ns, skb, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0);
    dropSkb(ns, skb, 'TTL_EXPIRED', `TTL ${ipTtl(b, nh)} on arrival at ${inDev.name}`, inDev.name);
    return;
  }
  const dev = route.dev!;
  const mtu = route.mtu ?? dev.mtu;
  if (ipDf(b, nh) && ipTotalLen(b, nh) > mtu) {
    icmpSend(ns, skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, mtu);
    dropSkb(ns, skb, 'PKT_TOO_BIG', `${ipTotalLen(b, nh)} bytes with DF exceed mtu ${mtu} of ${dev.name}`, dev.name);
    return;
  }
  ipDecreaseTtl(b, nh);
  const hop: NextHop = { dev, nexthop: route.gw ?? ipDst(b, nh), mtu, broadcast: false };
  if (ns.hooks.has('FORWARD')) {
    const v = ns.hooks.run('FORWARD', skb, { ns, hook: 'FORWARD', inDev, outDev: dev, bridged: false });
    if (v === 'stolen') return;
    if (v === 'drop') {
      dropSkb(ns, skb, 'NETFILTER_DROP', `dropped in FORWARD (${inDev.name} → ${dev.name})`, inDev.name);
      return;
    }
  }
  skb.head = skb.nh;
  if (tr.tracing)
    tr.emit(ns.name, skb.id, 'stage', {
      stage: 'ipForwardFinish',
      dev: dev.name,
      detail: `ttl now ${ipTtl(b, nh)}, next hop ${formatIpv4(hop.nexthop)}`,
    });
  ipOutput(ns, skb, hop);
}
