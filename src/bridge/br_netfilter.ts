// br_netfilter: with net.bridge.bridge-nf-call-iptables=1 in the bridge's namespace, bridged IPv4 frames traverse
// the IPv4 PREROUTING, FORWARD and POSTROUTING hooks with the bridge as the logical in/out device and the ports as
// physdev-in/out; with 0 they bypass iptables entirely (so a pod reaching a Service whose endpoint is on the same
// bridge is never DNATed). Only the call point lives here; the iptables engine registers the hooks.
// Limits: no re-routing of a bridged frame whose destination was DNATed to another network (br_nf_pre_routing_finish).

import { dropSkb } from '../netns/dev.js';
import type { NfHook, NfVerdict } from '../netns/hooks.js';
import type { NetDev } from '../netns/netdev.js';
import type { Skb } from '../netns/skb.js';
import { ETH_HLEN } from '../wire/ethernet.js';
import type { Bridge } from './bridge.js';

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
