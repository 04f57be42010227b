// The netlink requests flanneld makes (through vishvananda/netlink) on the emulated namespace, each recorded as
// the iproute2 command that sends the same request: AddrAdd (`ip addr add A/32 dev D`; a /32 gets no broadcast),
// LinkSetUp, NeighSet of a permanent ARP entry (`ip neigh replace … nud permanent`) and NeighDel, RouteReplace,
// RouteAdd and RouteDel (proto boot, scope universe, as netlink's defaults are iproute2's). A route without a
// device (vxlan DirectRouting) lets the kernel find the device, as netlink leaves the interface out.

import { NetlinkError } from '../../netns/errors.js';
import { RT_TABLE_MAIN } from '../../netns/fib.js';
import { addAddr } from '../../netns/ifaddr.js';
import { linkSetUp } from '../../netns/link.js';
import type { NetDev } from '../../netns/netdev.js';
import type { NetNs } from '../../netns/netns.js';
import { routeModify } from '../../netns/route.js';
import { type Cidr, formatCidr, formatIpv4, formatMac, type Ipv4, type Mac } from '../../wire/addr.js';
import type { OpLog } from './oplog.js';

/** A route as flannel builds a netlink.Route. */
export interface FlannelRoute {
  dst: Cidr;
  gw: Ipv4;
  /** Absent: the kernel picks the device for the gateway. */
  dev?: NetDev;
  onlink?: boolean;
}

export function formatFlannelRoute(r: FlannelRoute): string {
  return `${formatCidr(r.dst)} via ${formatIpv4(r.gw)}${r.dev ? ` dev ${r.dev.name}` : ''}${r.onlink ? ' onlink' : ''}`;
}

/** `ip addr add A/LEN dev D`. */
export function addrAdd(log: OpLog, ns: NetNs, dev: NetDev, a: Cidr): void {
  log.run(`ip addr add ${formatCidr(a)} dev ${dev.name}`, () => {
    addAddr(ns, dev, a.addr, a.len, { broadcast: 'auto' });
  });
}

/** `ip link set D up`. */
export function linkUp(log: OpLog, dev: NetDev): void {
  log.run(`ip link set ${dev.name} up`, () => linkSetUp(dev));
}

/** NeighSet of a permanent unicast entry: `ip neigh replace IP lladdr MAC dev D nud permanent`. */
export function neighReplace(log: OpLog, ns: NetNs, dev: NetDev, ip: Ipv4, mac: Mac): boolean {
  return log.attempt(`ip neigh replace ${formatIpv4(ip)} lladdr ${formatMac(mac)} dev ${dev.name} nud permanent`, () =>
    ns.neigh.addStatic(dev, ip, mac, 'PERMANENT', true),
  );
}

/** NeighDel: `ip neigh del IP dev D`. */
export function neighDel(log: OpLog, ns: NetNs, dev: NetDev, ip: Ipv4): boolean {
  return log.attempt(`ip neigh del ${formatIpv4(ip)} dev ${dev.name}`, () => {
    const n = ns.neigh.lookup(dev, ip);
    if (!n) throw new NetlinkError('RTNETLINK answers: No such file or directory', 'ENOENT');
    ns.neigh.remove(n);
  });
}

function spec(op: 'add' | 'del' | 'replace', r: FlannelRoute) {
  return {
    op,
    type: 'unicast' as const,
    dst: r.dst.addr,
    len: r.dst.len,
    gw: r.gw,
    dev: r.dev ?? null,
    metric: null,
    prefsrc: null,
    table: RT_TABLE_MAIN,
    proto: op === 'del' ? null : 'boot',
    scope: null,
    onlink: r.onlink ?? false,
    mtu: null,
    advmss: null,
  };
}

/** `ip route {add|replace|del} …`. */
export function route(log: OpLog, ns: NetNs, op: 'add' | 'del' | 'replace', r: FlannelRoute): boolean {
  return log.attempt(`ip route ${op} ${formatFlannelRoute(r)}`, () => routeModify(ns, spec(op, r)));
}
