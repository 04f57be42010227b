// A network device (struct net_device): name, ifindex, MAC, MTU, administrative and carrier state, an optional
// master (a bridge) and rx handler. Subclasses implement `xmit` (ndo_start_xmit). Operational state follows the
// kernel's RFC 2863 mapping as `ip link` prints it: UP, DOWN, LOWERLAYERDOWN (a veth whose peer is down, see veth.ts),
// UNKNOWN (lo).

import type { DevKind } from '../trace/topology.js';
import type { Mac } from '../wire/addr.js';
import type { NetNs } from './netns.js';
import type { Skb } from './skb.js';

export type RxHandlerResult = 'consumed' | 'pass';
export type RxHandler = (skb: Skb) => RxHandlerResult;

export abstract class NetDev {
  abstract readonly kind: DevKind;
  adminUp = false;
  promisc = false;
  /** Bridge (or other upper device) this device is enslaved to. */
  master: NetDev | null = null;
  /** Installed by the master: frames received on this device go to it first (netdev_rx_handler_register). */
  rxHandler: RxHandler | null = null;
  /** `address` was set explicitly (NET_ADDR_SET); a bridge then stops taking its lowest port's MAC. */
  macSet = false;
  /** Frames/bytes counters as `ip -s link` would show them. */
  stats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0, txDropped: 0 };

  constructor(
    public ns: NetNs,
    public name: string,
    public ifindex: number,
    public mac: Mac,
    public mtu: number,
  ) {}

  /** Carrier (IFF_LOWER_UP): a veth has carrier only while its peer is up. */
  carrier(): boolean {
    return true;
  }

  /** Running: administratively up with carrier; only such devices send and receive. */
  get running(): boolean {
    return this.adminUp && this.carrier();
  }

  operState(): string {
    if (!this.adminUp) return 'DOWN';
    return this.carrier() ? 'UP' : 'LOWERLAYERDOWN';
  }

  /** Interface flags in `ip link` order. */
  flags(): string[] {
    const f = ['BROADCAST', 'MULTICAST'];
    if (this.promisc) f.push('PROMISC');
    if (this.adminUp) f.push('UP');
    if (this.running) f.push('LOWER_UP');
    else if (this.adminUp) f.unshift('NO-CARRIER');
    return f;
  }

  /** ifindex of the link partner (a veth's peer), or undefined. */
  iflink(): { ifindex: number; sameNs: boolean } | undefined {
    return undefined;
  }

  /** Name as `ip link` prints it: `eth0@if7` for a veth whose peer is elsewhere, `veth0@veth1` in the same ns. */
  displayName(): string {
    const l = this.iflink();
    if (!l) return this.name;
    return `${this.name}@${l.sameNs ? this.peerName() : `if${l.ifindex}`}`;
  }

  protected peerName(): string {
    return '';
  }

  /** Transmits a frame whose Ethernet header starts at skb.head (ndo_start_xmit). */
  abstract xmit(skb: Skb): void;
}
