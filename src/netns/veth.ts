// Virtual Ethernet pairs (drivers/net/veth.c): what one end transmits the other receives after the link delay.
// An end has carrier only while its peer is administratively up, so `ip link` shows LOWERLAYERDOWN and frames are
// dropped until both ends are up. Deleting either end deletes both. Moving an end to another namespace keeps its
// ifindex when free there, which is why a pod's `eth0@if7` names the host end's index.

import type { DevKind } from '../trace/topology.js';
import type { Mac } from '../wire/addr.js';
import { dropSkb, netifReceiveLater } from './dev.js';
import { NetDev } from './netdev.js';
import type { NetNs } from './netns.js';
import type { Skb } from './skb.js';

export class Veth extends NetDev {
  readonly kind: DevKind = 'veth';
  peer!: Veth;

  constructor(ns: NetNs, name: string, ifindex: number, mac: Mac, mtu: number) {
    super(ns, name, ifindex, mac, mtu);
  }

  override carrier(): boolean {
    return this.peer.adminUp;
  }

  override iflink(): { ifindex: number; sameNs: boolean } {
    return { ifindex: this.peer.ifindex, sameNs: this.peer.ns === this.ns };
  }

  protected override peerName(): string {
    return this.peer.name;
  }

  xmit(skb: Skb): void {
    const peer = this.peer;
    if (!peer.running) {
      this.stats.txDropped++;
      dropSkb(this.ns, skb, 'NO_CARRIER', `veth peer ${peer.name} is down`, this.name);
      return;
    }
    // __dev_forward_skb scrubs the packet: no input device, no conntrack; the mark is cleared across namespaces.
    skb.inDev = null;
    skb.ext = {};
    if (peer.ns !== this.ns) skb.mark = 0;
    netifReceiveLater(peer, skb, this, this.ns.kernel.linkDelay);
  }

  /** Deletes both ends (veth_dellink unregisters the peer too). */
  destroy(): void {
    for (const end of [this, this.peer]) {
      if (!end.ns.devs.has(end.name) || end.ns.devs.get(end.name) !== end) continue;
      end.adminUp = false;
      end.ns.notify('down', end);
      end.ns.unregisterDev(end);
    }
  }
}
