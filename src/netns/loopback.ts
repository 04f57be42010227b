// The loopback device: every namespace has one (`lo`, ifindex 1, MTU 65536, all-zero MAC, down until set up).
// Packets routed to a local address leave through it and come straight back in, as loopback_xmit does; tcpdump on
// `lo` sees each such packet once, with an Ethernet header of zero addresses.

import type { DevKind } from '../trace/topology.js';
import { netifReceiveLater } from './dev.js';
import { NetDev, TSO_MAX_SIZE } from './netdev.js';
import type { NetNs } from './netns.js';
import type { Skb } from './skb.js';

export class Loopback extends NetDev {
  readonly kind: DevKind = 'loopback';

  constructor(ns: NetNs, ifindex: number) {
    super(ns, 'lo', ifindex, 0, 65536);
    // loopback_setup leaves min_mtu/max_mtu at 0 (`ip -d link` prints minmtu 0 maxmtu 0).
    this.minMtu = 0;
    this.maxMtu = 0;
  }

  override tsoMaxSize(): number {
    return TSO_MAX_SIZE;
  }

  override operState(): string {
    return this.adminUp ? 'UNKNOWN' : 'DOWN';
  }

  override flags(): string[] {
    return this.adminUp ? ['LOOPBACK', 'UP', 'LOWER_UP'] : ['LOOPBACK'];
  }

  xmit(skb: Skb): void {
    skb.inDev = null;
    netifReceiveLater(this, skb, null, 0);
  }
}
