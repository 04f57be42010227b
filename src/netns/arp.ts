// ARP (net/ipv4/arp.c): answering requests for our addresses and learning from what we hear, and sending the
// requests the neighbour table asks for. With the default arp_ignore=0 a namespace answers for any of its local
// addresses on any interface (the weak host model); 1 answers only for addresses on the receiving interface; 2 also
// requires the sender to be in that address's subnet. Learning follows arp_process: a request for us creates a
// STALE entry for the sender; a reply updates an existing entry (arp_accept=0 never creates one from a reply).
// Limits: no proxy ARP, no gratuitous-ARP announcements on address changes, no arp_filter.

import { formatIpv4, type Ipv4, inPrefix, MAC_BROADCAST, MAC_ZERO, type Mac } from '../wire/addr.js';
import { ARP_LEN, ARPOP_REPLY, ARPOP_REQUEST, emitArp, parseArp } from '../wire/arp.js';
import { WireError } from '../wire/errors.js';
import { ETH_HLEN, ETH_P_ARP, emitEth } from '../wire/ethernet.js';
import { ipSrc } from '../wire/ipv4.js';
import { devAddPack, devQueueXmit, dropSkb } from './dev.js';
import { inetSelectAddr, isLocalAddr } from './ifaddr.js';
import type { Neigh } from './neigh.js';
import type { NetDev } from './netdev.js';
import type { NetNs } from './netns.js';
import { Skb } from './skb.js';

function arpSend(ns: NetNs, dev: NetDev, op: number, ethDst: Mac, sha: Mac, spa: Ipv4, tha: Mac, tpa: Ipv4): void {
  const skb = Skb.alloc(ns.kernel.nextPktId(), ETH_HLEN + ARP_LEN);
  emitEth(skb.buf, skb.head, { dst: ethDst, src: dev.mac, ethertype: ETH_P_ARP });
  emitArp(skb.buf, skb.head + ETH_HLEN, { op, sha, spa, tha, tpa });
  skb.nh = skb.head + ETH_HLEN;
  devQueueXmit(dev, skb);
}

/** arp_solicit: a request for `n.ip`, broadcast, or unicast to `unicastTo` when probing a known address. */
export function arpSolicit(ns: NetNs, n: Neigh, skb: Skb | null, unicastTo: Mac | null): void {
  const dev = n.dev;
  let saddr: Ipv4 | null = null;
  // arp_announce=0: use the triggering packet's source when it is one of ours, else pick one for the target.
  const announce = ns.sysctl.confMax(dev.name, 'arp_announce');
  if (skb && skb.nh >= 0 && announce < 2) {
    const src = ipSrc(skb.buf, skb.nh);
    if (isLocalAddr(ns, src) && (announce === 0 || ns.addrsOf(dev).some((a) => inPrefix(n.ip, a.addr, a.len))))
      saddr = src;
  }
  if (saddr === null) saddr = inetSelectAddr(ns, dev, n.ip, 'link') ?? 0;
  const tr = ns.kernel.tracer;
  if (tr.tracing)
    tr.emit(ns.name, skb?.id ?? n.cause, 'stage', {
      stage: 'arpSolicit',
      dev: dev.name,
      detail: `who-has ${formatIpv4(n.ip)} tell ${formatIpv4(saddr)}${unicastTo !== null ? ' (unicast probe)' : ''}`,
    });
  arpSend(ns, dev, ARPOP_REQUEST, unicastTo ?? MAC_BROADCAST, dev.mac, saddr, MAC_ZERO, n.ip);
}

/** arp_rcv + arp_process. */
export function arpRcv(ns: NetNs, skb: Skb): void {
  const dev = skb.dev!;
  const tr = ns.kernel.tracer;
  if (tr.tracing) tr.emit(ns.name, skb.id, 'stage', { stage: 'arpRcv', dev: dev.name });
  if (skb.pktType === 'otherhost') {
    dropSkb(ns, skb, 'OTHERHOST', 'ARP frame addressed to another host', dev.name);
    return;
  }
  let arp: ReturnType<typeof parseArp>;
  try {
    if (skb.end - skb.nh < ARP_LEN) throw new WireError('arp', 'truncated ARP packet');
    arp = parseArp(skb.buf, skb.nh);
  } catch (e) {
    dropSkb(ns, skb, 'IP_INHDR', e instanceof Error ? e.message : 'malformed ARP', dev.name);
    return;
  }
  if (arp.op !== ARPOP_REQUEST && arp.op !== ARPOP_REPLY) {
    dropSkb(ns, skb, 'UNHANDLED_PROTO', `ARP opcode ${arp.op}`, dev.name);
    return;
  }
  // A zero sender address is valid only in a request (an address probe, RFC 5227).
  if (arp.spa === 0 && arp.op !== ARPOP_REQUEST) {
    dropSkb(ns, skb, 'ARP_NOT_FOR_US', 'ARP reply from 0.0.0.0', dev.name);
    return;
  }
  if (arp.op === ARPOP_REQUEST && isLocalAddr(ns, arp.tpa) && arpAccept(ns, dev, arp.spa, arp.tpa)) {
    if (arp.spa !== 0) ns.neigh.update(dev, arp.spa, arp.sha, false, true, skb.id);
    if (tr.tracing)
      tr.emit(ns.name, skb.id, 'neigh', {
        dev: dev.name,
        ip: formatIpv4(arp.tpa),
        action: 'reply',
        state: 'PERMANENT',
      });
    arpSend(ns, dev, ARPOP_REPLY, arp.sha, dev.mac, arp.tpa, arp.sha, arp.spa);
    return;
  }
  // Not a request we answer: update an existing entry only (arp_accept=0).
  const reachable = arp.op === ARPOP_REPLY && skb.pktType === 'host';
  if (arp.spa !== 0 && !isLocalAddr(ns, arp.spa)) ns.neigh.update(dev, arp.spa, arp.sha, reachable, false, skb.id);
  // A request for someone else is consumed, not dropped (consume_skb): it is ordinary broadcast traffic.
  if (arp.op === ARPOP_REQUEST && tr.tracing)
    tr.emit(ns.name, skb.id, 'stage', {
      stage: 'arpRcv',
      dev: dev.name,
      detail: `who-has ${formatIpv4(arp.tpa)}: not an address of this namespace, ignored`,
    });
}

/** arp_ignore: whether this namespace answers a request for `tip` that arrived on `dev`. */
function arpAccept(ns: NetNs, dev: NetDev, sip: Ipv4, tip: Ipv4): boolean {
  const mode = ns.sysctl.confMax(dev.name, 'arp_ignore');
  if (mode === 0) return true;
  const onDev = ns.addrsOf(dev).filter((a) => a.addr === tip);
  if (mode === 1) return onDev.length > 0;
  return onDev.some((a) => inPrefix(sip, a.addr, a.len));
}

devAddPack(ETH_P_ARP, arpRcv);
