// Route configuration (`ip route add|del|replace|append|change`, inet_rtm_newroute with fib_check_nh) and the two
// lookups the IP layer makes: output (ip_route_output_key: route, device, next hop and source address) and input
// (ip_route_input_slow: local, broadcast, forward, or an error that decides which ICMP goes back).

import { formatIpv4, type Ipv4, prefixMask } from '../wire/addr.js';
import { NetlinkError } from './errors.js';
import { formatRoute, type Route, type RouteScope, type RouteType, RT_TABLE_LOCAL, RT_TABLE_MAIN } from './fib.js';
import { inetSelectAddr, isLocalAddr } from './ifaddr.js';
import type { NetDev } from './netdev.js';
import type { NetNs } from './netns.js';

export interface RouteSpec {
  op: 'add' | 'del' | 'replace' | 'append' | 'change';
  type: RouteType;
  dst: Ipv4;
  len: number;
  gw: Ipv4 | null;
  dev: NetDev | null;
  metric: number | null;
  prefsrc: Ipv4 | null;
  table: number;
  proto: string | null;
  scope: RouteScope | null;
  onlink: boolean;
  mtu: number | null;
  advmss: number | null;
}

/** Applies one `ip route` command, validating it as the kernel does. */
export function routeModify(ns: NetNs, s: RouteSpec): void {
  const dst = (s.dst & prefixMask(s.len)) >>> 0;
  if (dst !== s.dst) throw new NetlinkError('Error: Invalid prefix for given prefix length.');
  if (s.op === 'del') {
    const victims = ns.fib.find(s.table, dst, s.len, (r) => {
      if (s.metric !== null && r.metric !== s.metric) return false;
      if (s.gw !== null && r.gw !== s.gw) return false;
      if (s.dev !== null && r.dev !== s.dev) return false;
      if (s.type !== 'unicast' && r.type !== s.type) return false;
      return true;
    });
    if (victims.length === 0) throw new NetlinkError('RTNETLINK answers: No such process', 'ESRCH');
    ns.fib.remove(victims[0]!);
    return;
  }
  const metric = s.metric ?? 0;
  let dev = s.dev;
  let scope: RouteScope = s.scope ?? 'global';
  if (s.type === 'unicast') {
    if (s.gw === null && dev === null) throw new NetlinkError('Error: Device only routes require a device.');
    if (s.gw !== null) {
      if (s.onlink) {
        if (!dev) throw new NetlinkError('Error: Nexthop device required for onlink.');
        if (!dev.adminUp) throw new NetlinkError('Error: Nexthop device is not up.', 'ENETDOWN');
        // fib_check_nh_v4_gw with RTNH_F_ONLINK: the gateway must still be a unicast address, not one of ours
        // and not a broadcast address.
        const t = ns.fib.lookupTable(RT_TABLE_LOCAL, s.gw);
        if (t && (t.type === 'local' || t.type === 'broadcast'))
          throw new NetlinkError('Error: Nexthop has invalid gateway.');
      } else {
        // fib_check_nh_v4_gw: the gateway is looked up with scope link (routes through another gateway are
        // skipped) and on dev if given; a unicast result or a local one (one of our own addresses, which Linux
        // accepts) is fine, anything else (a broadcast address, no route) is refused.
        const via = ns.fib.lookup(s.gw, (r) => r.scope !== 'global' && r.dev !== null && (!dev || r.dev === dev));
        if (!via || (via.type !== 'unicast' && via.type !== 'local'))
          throw new NetlinkError('Error: Nexthop has invalid gateway.', 'ENETUNREACH');
        dev = dev ?? via.dev;
      }
      if (!dev!.adminUp && !s.onlink) throw new NetlinkError('Error: Nexthop device is not up.', 'ENETDOWN');
    } else {
      if (!dev!.adminUp) throw new NetlinkError('Error: Device for nexthop is not up.', 'ENETDOWN');
      if (s.scope === null) scope = 'link';
    }
  } else if (s.type === 'local') {
    if (!dev) throw new NetlinkError('Error: Device only routes require a device.');
    if (s.scope === null) scope = 'host';
  } else if (dev !== null && s.type !== 'broadcast') {
    // Kernel accepts a dev on blackhole/unreachable/prohibit but ignores it; iproute2 prints none.
    dev = null;
  }
  if (s.prefsrc !== null && !isLocalAddr(ns, s.prefsrc)) throw new NetlinkError('Error: Invalid prefsrc address.');
  const route: Omit<Route, 'order'> = {
    table: s.table,
    type: s.type,
    dst,
    len: s.len,
    gw: s.gw,
    dev,
    metric,
    prefsrc: s.prefsrc,
    scope,
    proto: s.proto ?? 'boot',
    onlink: s.onlink,
    mtu: s.mtu,
    advmss: s.advmss,
  };
  const same = ns.fib.find(s.table, dst, s.len, (r) => r.metric === metric);
  switch (s.op) {
    case 'add':
      if (same.length) throw new NetlinkError('RTNETLINK answers: File exists', 'EEXIST');
      ns.fib.insert(route);
      return;
    case 'append':
      if (same.some((r) => r.gw === route.gw && r.dev === route.dev && r.type === route.type))
        throw new NetlinkError('RTNETLINK answers: File exists', 'EEXIST');
      ns.fib.insert(route);
      return;
    case 'change':
      if (!same.length) throw new NetlinkError('RTNETLINK answers: No such file or directory', 'ENOENT');
      ns.fib.remove(same[0]!);
      ns.fib.insert(route);
      return;
    case 'replace':
      if (same.length) ns.fib.remove(same[0]!);
      ns.fib.insert(route);
      return;
  }
}

export type RouteError = 'ENETUNREACH' | 'EHOSTUNREACH' | 'EACCES' | 'EINVAL';

export interface OutputRoute {
  route: Route;
  /** Device the packet leaves on (lo for local destinations). */
  dev: NetDev;
  /** Next hop to resolve with ARP. */
  nexthop: Ipv4;
  src: Ipv4;
  mtu: number;
  broadcast: boolean;
  local: boolean;
}

export function routeErrorOf(r: Route): RouteError | null {
  switch (r.type) {
    case 'blackhole':
      return 'EINVAL';
    case 'unreachable':
      return 'EHOSTUNREACH';
    case 'prohibit':
      return 'EACCES';
    default:
      return null;
  }
}

/** ip_route_output_key: the route for a locally generated packet, with source selection. */
export function ipRouteOutput(
  ns: NetNs,
  dst: Ipv4,
  src: Ipv4 | null = null,
  oif: NetDev | null = null,
  /** FLOWI_FLAG_ANYSRC: allow a source that is not ours (netfilter's REJECT answering for a forwarded packet). */
  anySrc = false,
): OutputRoute | RouteError {
  if (src !== null && src !== 0 && !anySrc && !isLocalAddr(ns, src)) return 'EINVAL';
  const route = ns.fib.lookup(dst, oif ? (r) => r.dev === oif || r.type !== 'unicast' : undefined);
  if (!route) return 'ENETUNREACH';
  const err = routeErrorOf(route);
  if (err) return err;
  const local = route.type === 'local';
  const dev = local ? ns.lo : route.dev!;
  const nexthop = route.gw ?? dst;
  let s = src !== null && src !== 0 ? src : route.prefsrc;
  if (s === null) {
    s = local
      ? dst
      : inetSelectAddr(
          ns,
          dev,
          route.gw ?? dst,
          route.gw !== null ? 'global' : route.scope === 'host' ? 'host' : 'link',
        );
    if (s === null) s = inetSelectAddr(ns, null, dst, 'global');
  }
  if (s === null) return 'EINVAL';
  return {
    route,
    dev,
    nexthop,
    src: s,
    mtu: route.mtu ?? dev.mtu,
    broadcast: route.type === 'broadcast' || dst === 0xffffffff,
    local,
  };
}

export type InputDecision =
  | { kind: 'local'; route: Route | null; broadcast: boolean }
  | { kind: 'forward'; route: Route; dev: NetDev; nexthop: Ipv4 }
  | { kind: 'error'; error: RouteError; route: Route | null; forwarding: boolean }
  | { kind: 'martian'; what: string };

/** ip_route_input_slow for a packet that arrived on `inDev`. */
export function ipRouteInput(ns: NetNs, dst: Ipv4, src: Ipv4, inDev: NetDev): InputDecision {
  if (src >>> 28 === 0xe || src === 0xffffffff) return { kind: 'martian', what: `martian source ${formatIpv4(src)}` };
  if (dst >>> 28 === 0xe) return { kind: 'martian', what: 'multicast destinations are not modelled' };
  if (dst === 0xffffffff) return { kind: 'local', route: null, broadcast: true };
  const localnet = ns.sysctl.confMax(inDev.name, 'route_localnet') === 1;
  if (inDev.kind !== 'loopback' && !localnet) {
    if (src >>> 24 === 127)
      return { kind: 'martian', what: `martian source ${formatIpv4(src)} (loopback) from ${inDev.name}` };
    if (dst >>> 24 === 127)
      return { kind: 'martian', what: `martian destination ${formatIpv4(dst)} (loopback) from ${inDev.name}` };
  }
  const forwarding = ns.sysctl.devForwarding(inDev.name);
  const route = ns.fib.lookup(dst);
  if (!route) return { kind: 'error', error: forwarding ? 'ENETUNREACH' : 'EHOSTUNREACH', route: null, forwarding };
  if (route.type === 'broadcast') return { kind: 'local', route, broadcast: true };
  if (route.type === 'local') return { kind: 'local', route, broadcast: false };
  const err = routeErrorOf(route);
  if (err) return { kind: 'error', error: err, route, forwarding };
  if (!forwarding) return { kind: 'error', error: 'EHOSTUNREACH', route, forwarding };
  return { kind: 'forward', route, dev: route.dev!, nexthop: route.gw ?? dst };
}

/** `ip route get`-style text for the trace. */
export function describeOutputRoute(dst: Ipv4, r: OutputRoute): string {
  const parts = [r.local ? `local ${formatIpv4(dst)}` : formatIpv4(dst)];
  if (r.route.gw !== null) parts.push('via', formatIpv4(r.route.gw));
  parts.push('dev', r.dev.name, 'src', formatIpv4(r.src));
  parts.push(`[${formatRoute(r.route, { showTable: r.route.table !== RT_TABLE_MAIN })}]`);
  return parts.join(' ');
}
