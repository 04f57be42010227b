// Applying an IPAM result to the container interface as pkg/ipam's ConfigureIface does: every address whose
// `interface` index names this interface is added (IPv4 broadcast computed, as vishvananda/netlink does), the link is
// set up, then each route is added through the interface — a route without `gw` takes the gateway of the first
// address that has one — with netlink's NLM_F_CREATE and neither EXCL nor APPEND, so an exact duplicate fails with
// "file exists" and a route with the same prefix and metric but another next hop goes in *before* the existing one.
// Also the parsed forms of result addresses and routes shared by ADD and CHECK. IPv4 only: IPv6 is refused.

import type { RouteScope } from '../../../netns/fib.js';
import { addAddr } from '../../../netns/ifaddr.js';
import { linkSetUp } from '../../../netns/link.js';
import type { NetNs } from '../../../netns/netns.js';
import { routeModify } from '../../../netns/route.js';
import { type Ipv4, looksLikeIpv6, parseCidr, parseIpv4 } from '../../../wire/addr.js';
import type { IpConfig, Result, Route } from '../../types.js';
import { errnoText, goIp, goQuote, ipNetFields, ipNetValue, maskHex } from './go-format.js';

export interface ParsedIp {
  addr: Ipv4;
  len: number;
  gateway: Ipv4 | null;
  interface: number | undefined;
}

export interface ParsedRoute {
  dst: Ipv4;
  len: number;
  gw: Ipv4 | null;
  priority: number;
  table: number | undefined;
  scope: number | undefined;
  /** `%v` of the destination as Go prints the net.IPNet value (default routes the plugin adds use a 16-byte mask). */
  dstValue: string;
}

function ipv6Refusal(what: string, text: string): Error {
  return new Error(`${what} ${text}: IPv6 is not supported by podwire (the emulated stack is IPv4 only)`);
}

export function parseIpConfig(ip: IpConfig): ParsedIp {
  if (looksLikeIpv6(ip.address)) throw ipv6Refusal('address', ip.address);
  const c = parseCidr(ip.address);
  if (c === null || !ip.address.includes('/')) throw new Error(`invalid CIDR address: ${ip.address}`);
  let gateway: Ipv4 | null = null;
  if (ip.gateway !== undefined && ip.gateway !== '') {
    if (looksLikeIpv6(ip.gateway)) throw ipv6Refusal('gateway', ip.gateway);
    gateway = parseIpv4(ip.gateway);
    if (gateway === null) throw new Error(`invalid IP address: ${ip.gateway}`);
  }
  return { addr: c.addr, len: c.len, gateway, interface: ip.interface };
}

export function parseRoute(r: Route): ParsedRoute {
  if (looksLikeIpv6(r.dst)) throw ipv6Refusal('route', r.dst);
  const c = parseCidr(r.dst);
  if (c === null || !r.dst.includes('/')) throw new Error(`invalid CIDR address: ${r.dst}`);
  let gw: Ipv4 | null = null;
  if (r.gw !== undefined && r.gw !== '') {
    if (looksLikeIpv6(r.gw)) throw ipv6Refusal('route gateway', r.gw);
    gw = parseIpv4(r.gw);
    if (gw === null) throw new Error(`invalid IP address: ${r.gw}`);
  }
  return {
    dst: c.addr,
    len: c.len,
    gw,
    priority: r.priority ?? 0,
    table: r.table,
    scope: r.scope,
    dstValue: ipNetValue(c.addr, maskHex(c.len)),
  };
}

/** `%v` of a types.Route pointer (its String method), as CHECK's messages print it. */
export function goRouteString(r: ParsedRoute): string {
  const table = r.table === undefined ? '<nil>' : String(r.table);
  const scope = r.scope === undefined ? '<nil>' : String(r.scope);
  return `{Dst:${ipNetFields(r.dst, r.len)} GW:${goIp(r.gw)} MTU:0 AdvMSS:0 Priority:${r.priority} Table:${table} Scope:${scope}}`;
}

/** `%+v` of an IPConfig (the pointer field printed as its value: Go would print an address). */
function goIpConfig(ip: ParsedIp): string {
  return `{Interface:${ip.interface ?? '<nil>'} Address:${ipNetFields(ip.addr, ip.len)} Gateway:${goIp(ip.gateway)}}`;
}

const SCOPES: Record<number, { scope: RouteScope; name: string }> = {
  0: { scope: 'global', name: 'universe' },
  253: { scope: 'link', name: 'link' },
  254: { scope: 'host', name: 'host' },
};

/** RTM_NEWROUTE with NLM_F_CREATE only: like append, but the new route goes before same-key routes. */
function routeAddCreate(ns: NetNs, spec: Parameters<typeof routeModify>[1]): void {
  const before = ns.fib.find(spec.table, spec.dst, spec.len, (r) => r.metric === (spec.metric ?? 0));
  routeModify(ns, { ...spec, op: 'append' });
  for (const r of before) {
    ns.fib.remove(r);
    const { order: _order, ...rest } = r;
    ns.fib.insert(rest);
  }
}

/** ipam.ConfigureIface for `ifName` in `ns`, given the result's interfaces and parsed addresses and routes. */
export function configureIface(
  ns: NetNs,
  ifName: string,
  res: Pick<Result, 'interfaces'>,
  ips: readonly ParsedIp[],
  routes: readonly ParsedRoute[],
): void {
  const ifaces = res.interfaces ?? [];
  if (ifaces.length === 0) throw new Error('no interfaces to configure');
  const link = ns.devs.get(ifName);
  if (!link) throw new Error(`failed to lookup ${goQuote(ifName)}: Link not found`);
  let v4gw: Ipv4 | null = null;
  for (const ip of ips) {
    if (ip.interface === undefined) continue;
    const idx = ip.interface;
    if (idx < 0 || idx >= ifaces.length || ifaces[idx]!.name !== ifName)
      throw new Error(`failed to add IP addr ${goIpConfig(ip)} to ${goQuote(ifName)}: invalid interface index`);
    try {
      addAddr(ns, link, ip.addr, ip.len, { broadcast: 'auto' });
    } catch (e) {
      throw new Error(`failed to add IP addr ${goIpConfig(ip)} to ${goQuote(ifName)}: ${errnoText(e)}`);
    }
    if (ip.gateway !== null && v4gw === null) v4gw = ip.gateway;
  }
  linkSetUp(link);
  for (const r of routes) {
    const gw = r.gw ?? v4gw;
    const scope = SCOPES[r.scope ?? 0];
    const table = r.table ?? 0;
    const fail = (why: string): Error =>
      new Error(
        `failed to add route '${r.dstValue} via ${goIp(gw)} dev ${ifName} metric ${r.priority} (Scope: ${scope?.name ?? 'unknown'}, Table: ${table})': ${why}`,
      );
    if (!scope) throw fail(`route scope ${r.scope} is not supported by podwire (only 0, 253 and 254 are modelled)`);
    try {
      routeAddCreate(ns, {
        op: 'append',
        type: 'unicast',
        dst: r.dst,
        len: r.len,
        gw,
        dev: link,
        metric: r.priority,
        prefsrc: null,
        table: table === 0 ? 254 : table,
        proto: null,
        scope: scope.scope,
        onlink: false,
        mtu: null,
        advmss: null,
      });
    } catch (e) {
      throw fail(errnoText(e));
    }
  }
}
