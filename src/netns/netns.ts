// A network namespace (struct net): its devices with per-namespace ifindex numbering, addresses, routing tables,
// neighbour table, sysctls, sockets and netfilter hook points. A new namespace holds only `lo`, down, as in Linux.
// Deleting a namespace destroys its veths, which takes their peers with them.

import type { TopoNamespace } from '../trace/topology.js';
import { formatCidr, formatMac } from '../wire/addr.js';
import { NetlinkError } from './errors.js';
import { Fib } from './fib.js';
import { NfHooks } from './hooks.js';
import { type IfAddr, watchIfaddrs } from './ifaddr.js';
import type { Kernel } from './kernel.js';
import { Loopback } from './loopback.js';
import { NeighTable } from './neigh.js';
import type { NetDev } from './netdev.js';
import { SocketTable } from './sockets.js';
import { Sysctl } from './sysctl.js';

export type NetdevEvent = 'up' | 'down' | 'change' | 'unregister' | 'register' | 'rename';

export class NetNs {
  readonly devs = new Map<string, NetDev>();
  readonly byIndex = new Map<number, NetDev>();
  private nextIfindex = 1;
  readonly fib = new Fib();
  readonly sysctl = new Sysctl();
  readonly hooks = new NfHooks();
  readonly neigh: NeighTable;
  readonly sockets: SocketTable;
  readonly addrs: IfAddr[] = [];
  readonly lo: Loopback;
  /** Counter behind the IPv4 identification field of packets this namespace originates. */
  ipIdent: number;
  private notifiers: ((ev: NetdevEvent, dev: NetDev) => void)[] = [];
  /** Namespace-scoped state owned by extensions (netfilter tables, conntrack, bridge-netfilter, …). */
  readonly ext = new Map<string, unknown>();

  constructor(
    readonly kernel: Kernel,
    readonly name: string,
  ) {
    this.neigh = new NeighTable(this);
    this.sockets = new SocketTable(this);
    this.ipIdent = kernel.rng.int(0, 0xffff);
    watchIfaddrs(this);
    this.lo = new Loopback(this, this.allocIfindex());
    this.registerDev(this.lo);
  }

  /** Next free ifindex; a device moved in keeps its index when it is free here (dev_change_net_namespace). */
  allocIfindex(preferred?: number): number {
    if (preferred !== undefined && !this.byIndex.has(preferred)) {
      if (preferred >= this.nextIfindex) this.nextIfindex = preferred + 1;
      return preferred;
    }
    while (this.byIndex.has(this.nextIfindex)) this.nextIfindex++;
    return this.nextIfindex++;
  }

  registerDev(dev: NetDev): void {
    if (this.devs.has(dev.name)) throw new NetlinkError('RTNETLINK answers: File exists', 'EEXIST');
    this.devs.set(dev.name, dev);
    this.byIndex.set(dev.ifindex, dev);
    this.sysctl.addDevice(dev.name);
    this.notify('register', dev);
  }

  unregisterDev(dev: NetDev): void {
    this.notify('unregister', dev);
    this.devs.delete(dev.name);
    this.byIndex.delete(dev.ifindex);
    this.sysctl.removeDevice(dev.name);
  }

  /** dev_change_name. Since Linux 6.2 an up device may be renamed too (the EBUSY refusal was dropped). */
  renameDev(dev: NetDev, to: string): void {
    if (dev.name === to) return;
    if (this.devs.has(to)) throw new NetlinkError('RTNETLINK answers: File exists', 'EEXIST');
    this.devs.delete(dev.name);
    this.sysctl.renameDevice(dev.name, to);
    dev.name = to;
    this.devs.set(to, dev);
    this.notify('rename', dev);
  }

  dev(name: string): NetDev {
    const d = this.devs.get(name);
    if (!d) throw new NetlinkError(`Cannot find device "${name}"`, 'ENODEV');
    return d;
  }

  /** Devices in ifindex order, as `ip link` lists them. */
  devices(): NetDev[] {
    return [...this.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  /** Registers a netdevice notifier; the returned function unregisters it. */
  onNetdevEvent(fn: (ev: NetdevEvent, dev: NetDev) => void): () => void {
    this.notifiers.push(fn);
    return () => {
      const i = this.notifiers.indexOf(fn);
      if (i >= 0) this.notifiers.splice(i, 1);
    };
  }

  notify(ev: NetdevEvent, dev: NetDev): void {
    for (const n of this.notifiers) n(ev, dev);
  }

  addrsOf(dev: NetDev): IfAddr[] {
    return this.addrs.filter((a) => a.dev === dev);
  }

  destroy(): void {
    for (const dev of this.devices().reverse()) {
      if (dev === this.lo) continue;
      const destroyable = dev as NetDev & { destroy?: () => void };
      if (destroyable.destroy) destroyable.destroy();
    }
  }

  snapshot(): TopoNamespace {
    return {
      name: this.name,
      ipForward: this.sysctl.ipForward,
      devices: this.devices().map((d) => {
        const l = d.iflink() as { ifindex: number; sameNs: boolean; peer?: NetDev } | undefined;
        const peer = (d as NetDev & { peer?: NetDev }).peer;
        return {
          name: d.name,
          ifindex: d.ifindex,
          kind: d.kind,
          mac: formatMac(d.mac),
          mtu: d.mtu,
          up: d.adminUp,
          operState: d.operState(),
          addrs: this.addrsOf(d).map((a) => formatCidr({ addr: a.addr, len: a.len })),
          ...(d.master ? { master: d.master.name } : {}),
          ...(l && peer ? { peer: { ns: peer.ns.name, dev: peer.name } } : {}),
        };
      }),
    };
  }
}
