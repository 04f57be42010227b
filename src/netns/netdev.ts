// A network device (struct net_device): name, ifindex, MAC, MTU, administrative and carrier state, an optional
// master (a bridge) and rx handler. Subclasses implement `xmit` (ndo_start_xmit). Operational state follows the
// kernel's RFC 2863 mapping as `ip link` prints it: UP, DOWN, LOWERLAYERDOWN (a veth whose peer is down, see veth.ts),
// UNKNOWN (lo). A device kind with facts beyond the common ones (a VXLAN device's VNI and remotes) reports them for
// the topology snapshot through the optional `topoInfo`. Drivers may provide the optional ndo_* operations
// (open/stop, MTU change, their own FDB for `bridge fdb … self`) and the attributes `ip -d link` prints
// (rtnl_link_ops fill_info / fill_slave_info).

import type { DevKind, TopoDevice } from '../trace/topology.js';
import type { Ipv4, Mac } from '../wire/addr.js';
import type { NetNs } from './netns.js';
import type { Skb } from './skb.js';

export type RxHandlerResult = 'consumed' | 'pass';
export type RxHandler = (skb: Skb) => RxHandlerResult;

/** NUD state of an FDB entry as bridge(8) sets it: permanent, static (NOARP) or dynamic (REACHABLE, ages). */
export type FdbEntryState = 'permanent' | 'static' | 'dynamic';

/** `bridge fdb add|append|replace MAC dev DEV … self` as ndo_fdb_add receives it (the op is the NLM_F_* flags). */
export interface NdoFdbAddRequest {
  op: 'add' | 'append' | 'replace';
  mac: Mac;
  state: FdbEntryState;
  dst?: Ipv4;
  vni?: number;
}

/** `bridge fdb del MAC dev DEV … self` as ndo_fdb_del receives it. */
export interface NdoFdbDelRequest {
  mac: Mac;
  dst?: Ipv4;
  vni?: number;
}

/** One line of a device's own FDB dump (ndo_fdb_dump): the NDA_* attributes bridge(8) prints. */
export interface NdoFdbDumpEntry {
  mac: Mac;
  dst: Ipv4;
  /** NDA_PORT, present only when it differs from the device's port. */
  port?: number;
  /** NDA_VNI, present only when it differs from the device's VNI. */
  vni?: number;
  state: FdbEntryState;
}

/** GSO_LEGACY_MAX_SIZE: the tso_max_size a device starts with. */
export const TSO_LEGACY_MAX_SIZE = 65536;
/** GSO_MAX_SIZE: what veth and lo allow (netif_set_tso_max_size). */
export const TSO_MAX_SIZE = 524280;

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
  /** A qdisc has been attached (dev_activate at the first open): `ip link` shows noqueue from then on, noop before. */
  qdiscAttached = false;
  /** dev->min_mtu / dev->max_mtu as `ip -d link` prints them. */
  minMtu = 68;
  maxMtu = 65535;

  /** ndo_open: may refuse to come up (throws a NetlinkError), e.g. a tunnel whose UDP port is taken. */
  ndoOpen?(): void;
  /** ndo_stop: called once the device is down. */
  ndoStop?(): void;
  /** ndo_change_mtu: a driver's own limit beyond min/max (throws a NetlinkError). */
  ndoChangeMtu?(mtu: number): void;
  /** ndo_fdb_add for `bridge fdb … self` on a device with its own FDB (VXLAN). */
  ndoFdbAdd?(req: NdoFdbAddRequest): void;
  /** ndo_fdb_del. */
  ndoFdbDel?(req: NdoFdbDelRequest): void;
  /** ndo_fdb_dump: the device's own entries, newest first; replaces the default dump of its address lists. */
  ndoFdbDump?(): NdoFdbDumpEntry[];

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

  /** num_tx_queues (and num_rx_queues). */
  numTxQueues(): number {
    return 1;
  }

  /** dev->tso_max_size. */
  tsoMaxSize(): number {
    return TSO_LEGACY_MAX_SIZE;
  }

  /** The kind's attributes after its name in `ip -d link` (fill_info as iproute2 prints them, with trailing space). */
  linkInfoData(): string {
    return '';
  }

  /** As a master: the attributes of port `port` (fill_slave_info, e.g. `bridge_slave …`), or null. */
  slaveInfo(_port: NetDev): string | null {
    return null;
  }

  /**
   * Kind-specific fields for the topology snapshot, merged over the common ones (name and ifindex excepted), the way
   * a link type's fill_info adds its IFLA_INFO_DATA to an RTM_NEWLINK message.
   */
  topoInfo?(): Partial<TopoDevice>;

  /** Transmits a frame whose Ethernet header starts at skb.head (ndo_start_xmit). */
  abstract xmit(skb: Skb): void;
}
