// br_netfilter: with net.bridge.bridge-nf-call-iptables=1 in the bridge's namespace, bridged IPv4 frames traverse
// the IPv4 PREROUTING, FORWARD and POSTROUTING hooks with the bridge as the logical in/out device and the ports as
// physdev-in/out; with 0 they bypass iptables entirely (so a pod reaching a Service whose endpoint is on the same
// bridge is never DNATed). The iptables engine registers the hooks; the call points and what the bridge does after
// a DNAT in PREROUTING live here (br_nf_pre_routing_finish): the new destination is routed as if the frame had
// arrived on the bridge device; when that route leaves through the bridge itself (a Service endpoint on the same
// bridge, or the client pod itself), the frame stays bridged — its destination MAC becomes the endpoint's, from the
// neighbour table, and it is forwarded from the port it came in on, so it keeps its TTL and reaches the client's own
// port only in hairpin mode. An unresolved neighbour is resolved by ARP from the bridge first and the frame then
// resumes from its ingress port with its own source MAC (br_nf_pre_routing_finish_bridge_slow). A DNAT to anything
// else sends the frame up to the bridge's IP stack to be routed (its destination MAC becomes the bridge's). With
// forwarding off, the output route decides whether the frame stays bridged, as the kernel's fallback does.
// Limits: IPv4 only; the re-route ignores the TOS and marks.

import { dropSkb } from '../netns/dev.js';
import type { NfHook, NfVerdict } from '../netns/hooks.js';
import type { NetDev } from '../netns/netdev.js';
import { ipRouteInput, ipRouteOutput } from '../netns/route.js';
import type { Skb } from '../netns/skb.js';
import { formatIpv4, formatMac, type Ipv4, type Mac, readMac, readU32, writeMac } from '../wire/addr.js';
import { ETH_HLEN } from '../wire/ethernet.js';
import type { Bridge } from './bridge.js';

declare module '../netns/skb.js' {
  interface SkbExt {
    /** A DNATed bridged frame waiting for its neighbour: the port it came in on and its own source MAC. */
    bridgedDnat?: { physIn: NetDev; src: Mac };
  }
}

/** IPv4 destination of a bridged frame (skb.head at the Ethernet header). */
export function bridgedDaddr(skb: Skb): Ipv4 {
  return readU32(skb.buf, skb.head + ETH_HLEN + 16);
}

/**
 * br_nf_pre_routing_finish after PREROUTING changed the destination address to `daddr`. Returns 'continue' when the
 * frame goes on through the bridge (destination MAC rewritten), 'queued' when it waits for neighbour resolution.
 */
export function brNfDnatReroute(br: Bridge, skb: Skb, physIn: NetDev, daddr: Ipv4): 'continue' | 'queued' {
  const ns = br.ns;
  const h = skb.head;
  const saddr = readU32(skb.buf, h + ETH_HLEN + 12);
  const d = ipRouteInput(ns, daddr, saddr, br);
  const tr = ns.kernel.tracer;
  let nexthop: Ipv4 | null = d.kind === 'forward' && d.dev === br ? d.nexthop : null;
  if (d.kind === 'error' && d.error === 'EHOSTUNREACH' && !d.forwarding) {
    // Forwarding off on the bridge: an output route through the bridge itself still keeps the frame bridged.
    const o = ipRouteOutput(ns, daddr);
    if (typeof o !== 'string' && o.dev === br) nexthop = o.nexthop;
  }
  if (nexthop === null) {
    // Routed: the frame goes up to the bridge device's IP stack.
    writeMac(skb.buf, h, br.mac);
    if (tr.tracing)
      tr.emit(ns.name, skb.id, 'stage', {
        stage: 'brNfPreRoutingFinish',
        dev: physIn.name,
        detail: `DNAT to ${formatIpv4(daddr)}: routed (up to ${br.name})`,
      });
    return 'continue';
  }
  const n = ns.neigh.lookup(br, nexthop);
  if (n?.mac != null && (n.state === 'PERMANENT' || n.state === 'NOARP' || n.state === 'REACHABLE')) {
    writeMac(skb.buf, h, n.mac);
    if (tr.tracing)
      tr.emit(ns.name, skb.id, 'stage', {
        stage: 'brNfPreRoutingFinishBridge',
        dev: physIn.name,
        detail: `DNAT to ${formatIpv4(daddr)} on ${br.name}: stays bridged, to ${formatMac(n.mac)}`,
      });
    return 'continue';
  }
  if (tr.tracing)
    tr.emit(ns.name, skb.id, 'stage', {
      stage: 'brNfPreRoutingFinishBridge',
      dev: physIn.name,
      detail: `DNAT to ${formatIpv4(daddr)} on ${br.name}: stays bridged once ${formatIpv4(nexthop)} is resolved`,
    });
  skb.ext.bridgedDnat = { physIn, src: readMac(skb.buf, h + 6) };
  skb.nh = h + ETH_HLEN;
  skb.head = skb.nh;
  ns.neigh.output(br, nexthop, skb, false);
  return 'queued';
}

export function brNfHook(br: Bridge, hook: NfHook, skb: Skb, physIn: NetDev | null, physOut: NetDev | null): NfVerdict {
  const ns = br.ns;
  if (!ns.sysctl.bridgeNfCallIptables || !ns.hooks.has(hook) || !br.isIpv4(skb)) return 'accept';
  const head = skb.head;
  skb.nh = head + ETH_HLEN;
  skb.head = skb.nh;
  const v = ns.hooks.run(hook, skb, {
    ns,
    hook,
    inDev: hook === 'POSTROUTING' ? null : br,
    outDev: hook === 'PREROUTING' ? null : br,
    bridged: true,
    physIn,
    physOut,
  });
  skb.head = head;
  if (v === 'drop') dropSkb(ns, skb, 'NETFILTER_DROP', `dropped in bridged ${hook} on ${br.name}`, physIn?.name);
  return v;
}
