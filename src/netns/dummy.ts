// The dummy device (drivers/net/dummy.c): accepts and discards every frame; useful as an address holder.
// Its operational state is UNKNOWN when up, as `ip link` shows for dummy interfaces. dummy_setup sets min_mtu and
// max_mtu to 0, which `ip -d link` prints.

import type { DevKind } from '../trace/topology.js';
import { dropSkb } from './dev.js';
import { NetDev } from './netdev.js';
import type { Skb } from './skb.js';

export class Dummy extends NetDev {
  readonly kind: DevKind = 'dummy';
  override minMtu = 0;
  override maxMtu = 0;

  override operState(): string {
    return this.adminUp ? 'UNKNOWN' : 'DOWN';
  }

  override flags(): string[] {
    return this.adminUp ? ['BROADCAST', 'NOARP', 'UP', 'LOWER_UP'] : ['BROADCAST', 'NOARP'];
  }

  xmit(skb: Skb): void {
    dropSkb(this.ns, skb, 'DEV_DISCARD', 'a dummy device discards what it sends', this.name);
  }
}
