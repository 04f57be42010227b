// The bridge plugin's CHECK (cmdCheck): the bridge, the container interface and the host veth that links them must
// still be what the previous result recorded — right kinds, MACs, sandbox, promiscuous mode, the veth's peer the
// container interface and its master the bridge — then every address must be on the container interface with a
// main-table route for its prefix, and every route of the result must be in the container's main table. Messages are
// the reference's, word for word (Go's formatting of values included).

import { Bridge } from '../../../bridge/bridge.js';
import { RT_TABLE_MAIN } from '../../../netns/fib.js';
import type { NetDev } from '../../../netns/netdev.js';
import type { NetNs } from '../../../netns/netns.js';
import { Veth } from '../../../netns/veth.js';
import { formatMac, networkOf } from '../../../wire/addr.js';
import type { Interface } from '../../types.js';
import { goRouteString, type ParsedIp, type ParsedRoute } from './configure.js';
import { goIp } from './go-format.js';

export interface FoundIf {
  found: boolean;
  name: string;
  ifIndex: number;
  peerIndex: number;
  masterIndex: number;
}

const NOT_FOUND: FoundIf = { found: false, name: '', ifIndex: 0, peerIndex: 0, masterIndex: 0 };

function validateInterface(ns: NetNs, intf: Interface, expectInSb: boolean): NetDev {
  if (!intf.name) throw new Error('Interface name missing ');
  const link = ns.devs.get(intf.name);
  if (!link) throw new Error(`Interface name ${intf.name} not found`);
  if (expectInSb) {
    if (!intf.sandbox) throw new Error(`Interface ${intf.name} is expected to be in a sandbox`);
  } else if (intf.sandbox) throw new Error(`Interface ${intf.name} should not be in sandbox`);
  return link;
}

export function validateCniBrInterface(host: NetNs, intf: Interface, promiscMode: boolean): FoundIf {
  const link = validateInterface(host, intf, false);
  if (!(link instanceof Bridge)) throw new Error(`Interface ${intf.name} does not have link type of bridge`);
  if (intf.mac && intf.mac !== formatMac(link.mac))
    throw new Error(`Bridge interface ${intf.name} Mac doesn't match: ${intf.mac}`);
  if (link.promisc !== promiscMode)
    throw new Error(
      `Bridge interface ${intf.name} configured Promisc Mode ${promiscMode} doesn't match current state: ${link.promisc} `,
    );
  return { found: true, name: link.name, ifIndex: link.ifindex, peerIndex: 0, masterIndex: link.master?.ifindex ?? 0 };
}

export function validateCniContainerInterface(cont: NetNs, intf: Interface): FoundIf {
  const link = validateInterface(cont, intf, true);
  if (!(link instanceof Veth)) throw new Error(`Error: Container interface ${link.name} not of type veth`);
  if (intf.mac && intf.mac !== formatMac(link.mac))
    throw new Error(`Interface ${intf.name} Mac ${intf.mac} doesn't match container Mac: ${formatMac(link.mac)}`);
  return { found: true, name: link.name, ifIndex: link.ifindex, peerIndex: link.peer.ifindex, masterIndex: 0 };
}

/** A host interface of the result: found when it is the container interface's peer and enslaved to the bridge. */
export function validateCniVethInterface(host: NetNs, intf: Interface, br: FoundIf, cont: FoundIf): FoundIf {
  const link = validateInterface(host, intf, false);
  if (!(link instanceof Veth)) return NOT_FOUND;
  const v: FoundIf = {
    found: false,
    name: '',
    ifIndex: link.ifindex,
    peerIndex: link.peer.ifindex,
    masterIndex: link.master?.ifindex ?? 0,
  };
  if (v.ifIndex !== cont.peerIndex || cont.ifIndex !== v.peerIndex || v.masterIndex !== br.ifIndex) return v;
  if (intf.mac && intf.mac !== formatMac(link.mac))
    throw new Error(`Interface ${intf.name} Mac doesn't match: ${intf.mac} not found`);
  return { ...v, found: true, name: link.name };
}

/** ip.ValidateExpectedInterfaceIPs, run in the container namespace. */
export function validateExpectedInterfaceIps(cont: NetNs, ifName: string, ips: readonly ParsedIp[]): void {
  for (const ip of ips) {
    const link = cont.devs.get(ifName);
    if (!link) throw new Error(`Cannot find container link ${ifName}`);
    if (!cont.addrsOf(link).some((a) => a.addr === ip.addr && a.len === ip.len))
      throw new Error(`Failed to match addr ${formatCidrUnmasked(ip)} on interface ${ifName}`);
    const prefix = networkOf({ addr: ip.addr, len: ip.len });
    if (!cont.fib.table(RT_TABLE_MAIN).some((r) => r.dst === prefix && r.len === ip.len))
      throw new Error(`Failed to find Gateway ${goIp(ip.gateway)} for interface ${ifName}`);
  }
}

function formatCidrUnmasked(ip: ParsedIp): string {
  return `${goIp(ip.addr)}/${ip.len}`;
}

/** ip.ValidateExpectedRoute: a default route matches any main-table default; others match prefix (and gw if given). */
export function validateExpectedRoutes(cont: NetNs, routes: readonly ParsedRoute[]): void {
  const main = cont.fib.table(RT_TABLE_MAIN);
  for (const r of routes) {
    const isDefault = r.dst === 0 && r.len === 0;
    const found = main.some((k) => {
      if (k.dst !== r.dst || k.len !== r.len) return false;
      return isDefault || r.gw === null || k.gw === r.gw;
    });
    if (!found) throw new Error(`Expected Route ${goRouteString(r)} not found in routing table`);
  }
}
