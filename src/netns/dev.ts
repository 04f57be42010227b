// The device layer (net/core/dev.c): receive (__netif_receive_skb: taps, rx handler, protocol dispatch) and
// transmit (dev_queue_xmit: taps, then the driver). tcpdump's view of a device is taken here, so captures show
// exactly the bytes that crossed it. Every drop goes through `dropSkb` with a reason, as kfree_skb_reason.

import type { Nanos } from '../sim/events.js';
import type { DropReason } from '../trace/events.js';
import { isMulticastMac, MAC_BROADCAST, readMac, readU16 } from '../wire/addr.js';
import { describeFrame } from '../wire/describe.js';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6 } from '../wire/ethernet.js';
import type { NetDev } from './netdev.js';
import type { NetNs } from './netns.js';
import type { Skb } from './skb.js';

/** Upper bound on devices one packet may cross; a bridging loop (which TTL cannot end) stops here. */
export const MAX_HOPS = 256;

export type PacketHandler = (ns: NetNs, skb: Skb) => void;

/** Protocol handlers by ethertype (dev_add_pack). IPv4 and ARP register themselves at import. */
const ptypes = new Map<number, PacketHandler>();

export function devAddPack(ethertype: number, fn: PacketHandler): void {
  ptypes.set(ethertype, fn);
}

export function dropSkb(ns: NetNs, skb: Skb, reason: DropReason, detail: string, dev?: string): void {
  const tr = ns.kernel.tracer;
  if (tr.tracing) tr.emit(ns.name, skb.id, 'drop', dev === undefined ? { reason, detail } : { reason, detail, dev });
}

/** A device that is down (DEV_DOWN) or up without carrier (NO_CARRIER: a veth whose peer is down) passes nothing. */
function notRunning(ns: NetNs, skb: Skb, dev: NetDev): void {
  if (dev.adminUp) dropSkb(ns, skb, 'NO_CARRIER', `${dev.name} has no carrier`, dev.name);
  else dropSkb(ns, skb, 'DEV_DOWN', `${dev.name} is down`, dev.name);
}

export function netifReceiveLater(dev: NetDev, skb: Skb, from: NetDev | null, delay: Nanos): void {
  dev.ns.kernel.queue.schedule(delay, () => netifReceive(dev, skb, from));
}

/** A frame arrives on `dev`; `from` is the device that sent it (for diagrams), null for loopback. */
export function netifReceive(dev: NetDev, skb: Skb, from: NetDev | null): void {
  const ns = dev.ns;
  if (!dev.running) {
    dev.stats.rxDropped++;
    notRunning(ns, skb, dev);
    return;
  }
  if (++skb.hops > MAX_HOPS) {
    dropSkb(ns, skb, 'LOOP_LIMIT', `crossed more than ${MAX_HOPS} devices`, dev.name);
    return;
  }
  skb.dev = dev;
  const b = skb.buf;
  const h = skb.head;
  dev.stats.rxPackets++;
  dev.stats.rxBytes += skb.end - h;
  const tr = ns.kernel.tracer;
  if (tr.capturing) tr.frame(ns.name, dev.name, b.subarray(h, skb.end), 'rx');
  if (tr.tracing) {
    tr.emit(ns.name, skb.id, 'dev', {
      dir: 'rx',
      dev: dev.name,
      len: skb.end - h,
      summary: describeFrame(b, h, skb.end - h),
      ...(from ? { from: { ns: from.ns.name, dev: from.name } } : {}),
    });
  }
  if (skb.end - h < ETH_HLEN) {
    dropSkb(ns, skb, 'IP_INHDR', 'frame shorter than an Ethernet header', dev.name);
    return;
  }
  const dst = readMac(b, h);
  if (dst === dev.mac) skb.pktType = 'host';
  else if (dst === MAC_BROADCAST) skb.pktType = 'broadcast';
  else if (isMulticastMac(dst)) skb.pktType = 'multicast';
  else skb.pktType = 'otherhost';
  if (dev.rxHandler && dev.rxHandler(skb) === 'consumed') return;
  deliverSkb(ns, skb);
}

/** Protocol dispatch after any rx handler: strips the Ethernet header and hands the packet to ARP or IPv4. */
export function deliverSkb(ns: NetNs, skb: Skb): void {
  const type = readU16(skb.buf, skb.head + 12);
  const fn = ptypes.get(type);
  if (!fn) {
    const what = type === ETH_P_IPV6 ? 'IPv6 is not supported by podwire' : `ethertype 0x${type.toString(16)}`;
    dropSkb(ns, skb, 'UNHANDLED_PROTO', what, skb.dev?.name);
    return;
  }
  // eth_type_trans: the network header starts after the Ethernet header, which is pulled off.
  skb.nh = skb.head + ETH_HLEN;
  skb.head = skb.nh;
  if (!skb.inDev) skb.inDev = skb.dev;
  fn(ns, skb);
}

/** Transmits a complete frame on `dev` (dev_queue_xmit): taps see it, then the driver takes it. */
export function devQueueXmit(dev: NetDev, skb: Skb): void {
  const ns = dev.ns;
  if (!dev.running) {
    // Linux counts these in TX dropped and taps never see them (tcpdump shows nothing on a NO-CARRIER veth).
    dev.stats.txDropped++;
    notRunning(ns, skb, dev);
    return;
  }
  skb.dev = dev;
  const b = skb.buf;
  const h = skb.head;
  dev.stats.txPackets++;
  dev.stats.txBytes += skb.end - h;
  const tr = ns.kernel.tracer;
  // libpcap drops the outgoing copy of a loopback packet (it reads it again as incoming), so tcpdump on `lo`
  // shows each packet once; the trace keeps both directions.
  if (tr.capturing && dev.kind !== 'loopback') tr.frame(ns.name, dev.name, b.subarray(h, skb.end), 'tx');
  if (tr.tracing)
    tr.emit(ns.name, skb.id, 'dev', {
      dir: 'tx',
      dev: dev.name,
      len: skb.end - h,
      summary: describeFrame(b, h, skb.end - h),
    });
  dev.xmit(skb);
}

export { ETH_P_ARP, ETH_P_IP };
