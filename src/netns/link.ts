// Link configuration as `ip link` performs it (rtnetlink newlink/setlink/dellink): creating veth pairs and dummy
// devices, up/down (with the NETDEV_UP/DOWN consequences for routes and neighbours), moving a device to another
// namespace (it goes down and loses its addresses, keeps its ifindex when free), renaming (also while up, as Linux
// allows since 6.2), MTU and MAC changes. Device kinds owned by extensions (bridge) are created by those modules,
// VXLAN devices by vxlan.ts. Drivers take part through their ndo_open/ndo_stop/ndo_change_mtu operations.

import type { Mac } from '../wire/addr.js';
import { Dummy } from './dummy.js';
import { NetlinkError } from './errors.js';
import type { NetDev } from './netdev.js';
import type { NetNs } from './netns.js';
import { Veth } from './veth.js';

const IFNAMSIZ = 16;

export function checkIfname(name: string): void {
  if (name.length === 0 || name.length >= IFNAMSIZ || /[\s/:]/.test(name) || name === '.' || name === '..')
    throw new NetlinkError(`Error: argument "${name}" is wrong: "name" not a valid ifname`);
}

export interface VethSpec {
  name: string;
  peerName: string;
  /** Namespace for the peer end (default: the same). */
  peerNs?: NetNs;
  mac?: Mac;
  peerMac?: Mac;
  mtu?: number;
  peerMtu?: number;
}

export function createVeth(ns: NetNs, s: VethSpec): [Veth, Veth] {
  checkIfname(s.name);
  checkIfname(s.peerName);
  const pns = s.peerNs ?? ns;
  if (ns.devs.has(s.name) || pns.devs.has(s.peerName) || (pns === ns && s.name === s.peerName))
    throw new NetlinkError('RTNETLINK answers: File exists', 'EEXIST');
  const rng = ns.kernel.rng;
  // veth_newlink registers the peer first, so it gets the lower ifindex when both share a namespace.
  const peer = new Veth(pns, s.peerName, pns.allocIfindex(), s.peerMac ?? rng.mac(), s.peerMtu ?? s.mtu ?? 1500);
  const dev = new Veth(ns, s.name, ns.allocIfindex(), s.mac ?? rng.mac(), s.mtu ?? 1500);
  dev.peer = peer;
  peer.peer = dev;
  if (s.peerMac !== undefined) peer.macSet = true;
  if (s.mac !== undefined) dev.macSet = true;
  pns.registerDev(peer);
  ns.registerDev(dev);
  // veth_newlink turns the carrier off on both ends once registered.
  peer.carrierLost();
  dev.carrierLost();
  return [dev, peer];
}

export function createDummy(ns: NetNs, name: string, mac?: Mac, mtu?: number): Dummy {
  checkIfname(name);
  if (ns.devs.has(name)) throw new NetlinkError('RTNETLINK answers: File exists', 'EEXIST');
  const d = new Dummy(ns, name, ns.allocIfindex(), mac ?? ns.kernel.rng.mac(), mtu ?? 1500);
  if (mac !== undefined) d.macSet = true;
  ns.registerDev(d);
  return d;
}

export function linkSetUp(dev: NetDev): void {
  if (dev.adminUp) return;
  // __dev_open: the driver's ndo_open may refuse, and then the device stays down.
  dev.ndoOpen?.();
  dev.adminUp = true;
  dev.qdiscAttached = true;
  dev.ns.notify('up', dev);
  notifyPeerCarrier(dev);
}

export function linkSetDown(dev: NetDev): void {
  if (!dev.adminUp) return;
  // veth_close: if both ends were up, both lose their carrier (also when the end is leaving for another namespace).
  const lostCarrier = dev instanceof Veth && dev.peer.adminUp;
  dev.adminUp = false;
  dev.ndoStop?.();
  dev.ns.notify('down', dev);
  notifyPeerCarrier(dev);
  if (lostCarrier) {
    dev.carrierLost();
    dev.peer.carrierLost();
  }
}

function notifyPeerCarrier(dev: NetDev): void {
  const peer = (dev as NetDev & { peer?: NetDev }).peer;
  if (peer) peer.ns.notify('change', peer);
}

/** `ip link set DEV netns NS`: the device is taken down, loses addresses and routes, and keeps its ifindex if free. */
export function linkSetNetns(dev: NetDev, to: NetNs): void {
  const from = dev.ns;
  if (from === to) return;
  // Loopback and bridges are NETIF_F_NETNS_LOCAL: they cannot leave their namespace.
  if (dev.kind === 'loopback' || dev.kind === 'bridge') throw new NetlinkError('RTNETLINK answers: Invalid argument');
  if (to.devs.has(dev.name)) throw new NetlinkError('RTNETLINK answers: File exists', 'EEXIST');
  if (dev.master) linkSetNomaster(dev);
  linkSetDown(dev);
  from.unregisterDev(dev);
  dev.ns = to;
  dev.ifindex = to.allocIfindex(dev.ifindex);
  to.registerDev(dev);
  notifyPeerCarrier(dev);
}

export function linkSetNomaster(dev: NetDev): void {
  const m = dev.master as (NetDev & { delPort?: (d: NetDev) => void }) | null;
  if (m?.delPort) m.delPort(dev);
}

export function linkSetMaster(dev: NetDev, master: NetDev): void {
  const m = master as NetDev & { addPort?: (d: NetDev) => void };
  if (!m.addPort) throw new NetlinkError(`Error: Device "${master.name}" can not be a master.`, 'EOPNOTSUPP');
  if (dev.master === master) return;
  if (dev.master) linkSetNomaster(dev);
  m.addPort(dev);
}

export function linkSetMtu(dev: NetDev, mtu: number): void {
  const max = dev.kind === 'loopback' ? 65536 : 65535;
  if (mtu < 68 || mtu > max)
    throw new NetlinkError(`Error: mtu ${mtu < 68 ? 'less than device minimum' : 'greater than device maximum'}.`);
  dev.ndoChangeMtu?.(mtu);
  dev.mtu = mtu;
  dev.ns.notify('change', dev);
}

export function linkSetAddress(dev: NetDev, mac: Mac): void {
  if (Math.floor(mac / 0x10000000000) & 1)
    throw new NetlinkError('RTNETLINK answers: Cannot assign requested address', 'EADDRNOTAVAIL');
  dev.mac = mac;
  dev.macSet = true;
  dev.ns.notify('change', dev);
}

export function linkDelete(dev: NetDev): void {
  if (dev.kind === 'loopback') throw new NetlinkError('RTNETLINK answers: Operation not supported', 'EOPNOTSUPP');
  const d = dev as NetDev & { destroy?: () => void };
  if (dev.master) linkSetNomaster(dev);
  if (d.destroy) {
    d.destroy();
    return;
  }
  linkSetDown(dev);
  dev.ns.unregisterDev(dev);
}
