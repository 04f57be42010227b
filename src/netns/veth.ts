// Virtual Ethernet pairs (drivers/net/veth.c): what one end transmits the other receives after the link delay.
// An end has carrier only while its peer is administratively up, so frames are dropped until both ends are up;
// `ip link` then shows NO-CARRIER and LOWERLAYERDOWN or DOWN, as linkwatch decided at the last carrier loss (below).
// Deleting either end deletes both. Moving an end to another namespace keeps its ifindex when free there, which is
// why a pod's `eth0@if7` names the host end's index. A veth gets one queue per possible CPU
// (veth_get_num_queues); the count modelled is the reference machine's (tools/kernel-lab: 2 CPUs).

import type { DevKind } from '../trace/topology.js';
import type { Mac } from '../wire/addr.js';
import { dropSkb, netifReceiveLater } from './dev.js';
import { NetDev, TSO_MAX_SIZE } from './netdev.js';
import type { NetNs } from './netns.js';
import type { Skb } from './skb.js';

/** num_possible_cpus() of the machine the model reproduces: a veth's queue count. */
export const VETH_NUM_QUEUES = 2;

export class Veth extends NetDev {
  readonly kind: DevKind = 'veth';
  peer!: Veth;

  constructor(ns: NetNs, name: string, ifindex: number, mac: Mac, mtu: number) {
    super(ns, name, ifindex, mac, mtu);
  }

  override carrier(): boolean {
    return this.peer.adminUp;
  }

  /** The operational state linkwatch stored at this end's last carrier loss; null before the first. */
  private noCarrierState: string | null = null;

  /**
   * netif_carrier_off → linkwatch_fire_event: the kernel works out the new operstate later, once the configuration
   * change is over (after a move, the end is already in its new namespace), and keeps it until the next carrier
   * change — `ip link set … up` on an end whose peer is still down does not recompute it.
   */
  carrierLost(): void {
    this.ns.kernel.queue.schedule(0, () => {
      this.noCarrierState = this.defaultOperstate();
    });
  }

  /**
   * default_operstate without carrier: LOWERLAYERDOWN only when the device holding the peer's ifindex *in this
   * end's own namespace* exists and has no carrier — the peer itself when both ends share a namespace. A peer in
   * another namespace therefore gives DOWN when that index is free here, or belongs to a device with carrier, or is
   * this end's own index (both ends are often ifindex 2), and LOWERLAYERDOWN when the index is held by a device
   * without carrier (tools/kernel-lab/NOTES.md §10 and checks in real namespaces).
   */
  private defaultOperstate(): string {
    const iflink = this.peer.ifindex;
    if (iflink === this.ifindex) return 'DOWN';
    const other = this.ns.byIndex.get(iflink);
    if (!other) return 'DOWN';
    // A veth's carrier bit is on only while both of its ends are up.
    const carrierOk = other instanceof Veth ? other.adminUp && other.peer.adminUp : other.carrier();
    return carrierOk ? 'DOWN' : 'LOWERLAYERDOWN';
  }

  override operState(): string {
    if (!this.adminUp) return 'DOWN';
    if (this.carrier()) return 'UP';
    return this.noCarrierState ?? this.defaultOperstate();
  }

  override iflink(): { ifindex: number; sameNs: boolean } {
    return { ifindex: this.peer.ifindex, sameNs: this.peer.ns === this.ns };
  }

  protected override peerName(): string {
    return this.peer.name;
  }

  override numTxQueues(): number {
    return VETH_NUM_QUEUES;
  }

  override tsoMaxSize(): number {
    return TSO_MAX_SIZE;
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
    for (const _ in skb.ext) {
      skb.ext = {};
      break;
    }
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
