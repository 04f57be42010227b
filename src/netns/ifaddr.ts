// IPv4 interface addresses (net/ipv4/devinet.c) and the routes the kernel derives from them (fib_add_ifaddr):
// for 10.0.0.1/24 on an up eth0, `local 10.0.0.1` and `broadcast 10.0.0.255` in table local and
// `10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1` in table main. The local route exists while the
// device is up; when a device goes down every route through it is flushed (fib_sync_down_dev), and going up
// re-adds the address routes. A second address in an existing subnet is secondary (no second prefix route).
// Source address selection follows inet_select_addr.

import { broadcastOf, type Ipv4, inPrefix, networkOf } from '../wire/addr.js';
import { NetlinkError } from './errors.js';
import type { Route, RouteScope } from './fib.js';
import { RT_TABLE_LOCAL, RT_TABLE_MAIN } from './fib.js';
import type { NetDev } from './netdev.js';
import type { NetNs } from './netns.js';

export interface IfAddr {
  dev: NetDev;
  addr: Ipv4;
  len: number;
  broadcast: Ipv4 | null;
  scope: RouteScope;
  label: string;
  secondary: boolean;
}

const SCOPE_RANK: Record<RouteScope, number> = { global: 0, link: 253, host: 254 };

export function isLocalAddr(ns: NetNs, a: Ipv4): boolean {
  const r = ns.fib.lookupTable(RT_TABLE_LOCAL, a);
  return r !== null && r.type === 'local';
}

export function addAddr(
  ns: NetNs,
  dev: NetDev,
  addr: Ipv4,
  len: number,
  opts: { broadcast?: Ipv4 | 'auto' | null; scope?: RouteScope; label?: string } = {},
): IfAddr {
  const same = ns.addrs.find((a) => a.dev === dev && a.addr === addr && a.len === len);
  if (same) throw new NetlinkError('Error: ipv4: Address already assigned.', 'EEXIST');
  if (len === 32 && ns.addrs.some((a) => a.dev === dev && a.addr === addr))
    throw new NetlinkError('Error: ipv4: Address already assigned.', 'EEXIST');
  const secondary = ns.addrs.some(
    (a) => a.dev === dev && a.len === len && !a.secondary && inPrefix(addr, a.addr, a.len),
  );
  const brd = opts.broadcast === 'auto' ? (len < 31 ? broadcastOf({ addr, len }) : null) : (opts.broadcast ?? null);
  const scope = opts.scope ?? (dev.kind === 'loopback' && addr >>> 24 === 127 ? 'host' : 'global');
  const ifa: IfAddr = { dev, addr, len, broadcast: brd, scope, label: opts.label ?? dev.name, secondary };
  // Primaries go before secondaries; within each, in order of addition (inet_insert_ifa).
  if (secondary) ns.addrs.push(ifa);
  else {
    const firstSecondary = ns.addrs.findIndex((a) => a.dev === dev && a.secondary);
    if (firstSecondary < 0) ns.addrs.push(ifa);
    else ns.addrs.splice(firstSecondary, 0, ifa);
  }
  if (dev.adminUp) addIfaddrRoutes(ns, ifa);
  return ifa;
}

export function delAddr(ns: NetNs, dev: NetDev, addr: Ipv4, len: number | null): void {
  const i = ns.addrs.findIndex((a) => a.dev === dev && a.addr === addr && (len === null || a.len === len));
  if (i < 0) throw new NetlinkError('RTNETLINK answers: Cannot assign requested address', 'EADDRNOTAVAIL');
  const ifa = ns.addrs[i]!;
  ns.addrs.splice(i, 1);
  removeIfaddrRoutes(ns, ifa);
  if (!ifa.secondary) {
    // Deleting a primary deletes its secondaries too (promote_secondaries defaults to 0).
    for (const s of ns.addrs.filter((a) => a.dev === dev && a.secondary && inPrefix(a.addr, ifa.addr, ifa.len))) {
      ns.addrs.splice(ns.addrs.indexOf(s), 1);
      removeIfaddrRoutes(ns, s);
    }
  }
}

export function flushAddrs(ns: NetNs, dev: NetDev): void {
  for (const a of ns.addrsOf(dev).filter((x) => !x.secondary)) delAddr(ns, dev, a.addr, a.len);
}

function kernelRoute(
  ns: NetNs,
  r: Omit<Route, 'order' | 'gw' | 'metric' | 'onlink' | 'mtu' | 'advmss' | 'proto'>,
): void {
  const exists = ns.fib
    .find(r.table, r.dst, r.len)
    .some((x) => x.type === r.type && x.dev === r.dev && x.prefsrc === r.prefsrc);
  if (exists) return;
  ns.fib.insert({ ...r, gw: null, metric: 0, onlink: false, mtu: null, advmss: null, proto: 'kernel' });
}

/** fib_add_ifaddr. */
export function addIfaddrRoutes(ns: NetNs, ifa: IfAddr): void {
  const dev = ifa.dev;
  const prefix = networkOf({ addr: ifa.addr, len: ifa.len });
  const loop = dev.kind === 'loopback';
  kernelRoute(ns, {
    table: RT_TABLE_LOCAL,
    type: 'local',
    dst: ifa.addr,
    len: 32,
    dev,
    prefsrc: ifa.addr,
    scope: 'host',
  });
  if (ifa.secondary) return;
  if (prefix !== 0 && (prefix !== ifa.addr || ifa.len < 32)) {
    kernelRoute(ns, {
      table: loop ? RT_TABLE_LOCAL : RT_TABLE_MAIN,
      type: loop ? 'local' : 'unicast',
      dst: prefix,
      len: ifa.len,
      dev,
      prefsrc: ifa.addr,
      scope: loop ? 'host' : 'link',
    });
  }
  if (ifa.len < 31) {
    kernelRoute(ns, {
      table: RT_TABLE_LOCAL,
      type: 'broadcast',
      dst: broadcastOf({ addr: ifa.addr, len: ifa.len }),
      len: 32,
      dev,
      prefsrc: ifa.addr,
      scope: 'link',
    });
  }
}

/** fib_del_ifaddr: the routes this address created, unless another address still justifies them. */
function removeIfaddrRoutes(ns: NetNs, ifa: IfAddr): void {
  const stillLocal = ns.addrs.some((a) => a.addr === ifa.addr && a.dev.adminUp);
  ns.fib.removeWhere(
    (r) =>
      r.proto === 'kernel' &&
      r.prefsrc === ifa.addr &&
      r.dev === ifa.dev &&
      !(r.type === 'local' && r.len === 32 && stillLocal),
  );
}

/** Device up: re-add address routes. Device down: flush every route through it (fib_disable_ip). */
export function watchIfaddrs(ns: NetNs): void {
  ns.onNetdevEvent((ev, dev) => {
    if (ev === 'up') {
      for (const a of ns.addrsOf(dev)) addIfaddrRoutes(ns, a);
      // inetdev_event: loopback coming up without an address gets 127.0.0.1/8.
      if (dev.kind === 'loopback' && ns.addrsOf(dev).length === 0) addAddr(ns, dev, 0x7f000001, 8, { scope: 'host' });
    } else if (ev === 'down') ns.fib.removeWhere((r) => r.dev === dev);
    else if (ev === 'unregister') {
      ns.fib.removeWhere((r) => r.dev === dev);
      for (let i = ns.addrs.length - 1; i >= 0; i--) if (ns.addrs[i]!.dev === dev) ns.addrs.splice(i, 1);
    }
  });
}

/**
 * inet_select_addr: a primary address on `dev` in the subnet of `dst` with scope at most `scope`, else the first
 * such primary on `dev`, else the first suitable address on any other device (lo first, by ifindex).
 */
export function inetSelectAddr(ns: NetNs, dev: NetDev | null, dst: Ipv4, scope: RouteScope): Ipv4 | null {
  const maxRank = SCOPE_RANK[scope];
  if (dev) {
    let first: Ipv4 | null = null;
    for (const a of ns.addrs) {
      if (a.dev !== dev || a.secondary || SCOPE_RANK[a.scope] > maxRank) continue;
      if (dst !== 0 && inPrefix(dst, a.addr, a.len)) return a.addr;
      if (first === null) first = a.addr;
    }
    if (first !== null) return first;
  }
  for (const d of ns.devices()) {
    if (d === dev) continue;
    for (const a of ns.addrs) {
      if (a.dev !== d || a.secondary) continue;
      if (SCOPE_RANK[a.scope] <= Math.min(maxRank, SCOPE_RANK.link) && a.scope !== 'host') return a.addr;
    }
  }
  return null;
}
