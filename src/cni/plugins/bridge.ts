// The `bridge` CNI plugin (containernetworking/plugins plugins/main/bridge) run against the emulated kernel.
// ADD: make sure the bridge exists (created with the configured MTU, promiscuous if asked, set up), make a veth pair
// from the container namespace (container end CNI_IFNAME, host end `vethXXXXXXXX` enslaved to the bridge, hairpin
// as configured), call the IPAM plugin, compute gateways (the subnet's first address when IPAM gives none; a default
// route through it with isDefaultGateway unless IPAM already returned one with a gateway), configure the container
// interface, give the bridge the gateway address (isGateway; an existing different address is an error unless
// forceAddress, which replaces it) and pin the bridge's MAC, enable net.ipv4.ip_forward, add the masquerade rules
// (ipMasq), check that the host port is up, and return interfaces [bridge, host veth, container interface], the
// addresses (interface 2), routes and DNS. A failure after IPAM releases the address and, as in the reference,
// leaves the interfaces behind for DEL to remove.
// DEL: release the address, delete the container interface (its host end goes with it) and, when the interface was
// still there, the masquerade rules of its addresses; a missing namespace or interface is not an error.
// CHECK: see bridge/check.ts.
// Errors are CniErrors with code 999 (what the reference's skel prints for a plain error) and its messages; an IPAM
// plugin's error is passed on unchanged. Refused (podwire does not model them): vlan ≠ 0, vlanTrunk, macspoofchk,
// portIsolation, ipMasqBackend "nftables", IPv6 addresses. `enabledad` and the IPv6 sysctls the reference writes
// (accept_ra, accept_dad) and `arp_notify` are no-ops here; the reference ignores their failures too.

import { Bridge, createBridge } from '../../bridge/bridge.js';
import { NetlinkError } from '../../netns/errors.js';
import { addAddr, delAddr } from '../../netns/ifaddr.js';
import { checkIfname, linkDelete, linkSetAddress, linkSetMaster, linkSetMtu, linkSetUp } from '../../netns/link.js';
import type { NetNs } from '../../netns/netns.js';
import { type Cidr, formatCidr, formatIpv4, formatMac, type Ipv4, networkOf } from '../../wire/addr.js';
import { findIpam, type IpamPlugin } from '../ipam/index.js';
import { CNI_BIN_DIR, netnsPath, registerPlugin } from '../runtime.js';
import {
  CniError,
  type Dns,
  type Interface,
  type IpConfig,
  type NetConf,
  type Plugin,
  type PluginEnv,
  type Result,
  type Route,
  type RuntimeInputs,
} from '../types.js';
import {
  type FoundIf,
  validateCniBrInterface,
  validateCniContainerInterface,
  validateCniVethInterface,
  validateExpectedInterfaceIps,
  validateExpectedRoutes,
} from './bridge/check.js';
import { type BridgeConf, loadBridgeConf, refuseUnmodelled } from './bridge/conf.js';
import { configureIface, type ParsedIp, type ParsedRoute, parseIpConfig, parseRoute } from './bridge/configure.js';
import { errnoText, goQuote, IPV4ZERO_MASK16_HEX, ipNetValue } from './bridge/go-format.js';
import { setupIpMasqForNetworks, teardownIpMasqForNetworks } from './bridge/ipmasq.js';
import { setupVeth } from './bridge/veth.js';

/** types.ErrInternal: the code skel gives a plugin's plain (non-CNI) error. */
export const ERR_INTERNAL = 999;

/** The result version the reference builds; the runtime converts it to the configuration's version. */
const IMPLEMENTED_VERSION = '1.0.0';

function asCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  return new CniError(ERR_INTERNAL, e instanceof Error ? e.message : String(e));
}

function netnsAlive(env: PluginEnv, ns: NetNs): boolean {
  return env.kernel.namespaces.get(ns.name) === ns;
}

function openNetnsError(ns: NetNs): Error {
  const p = netnsPath(ns);
  return new Error(`failed to open netns ${goQuote(p)}: failed to Statfs ${goQuote(p)}: no such file or directory`);
}

function ipamOf(type: string): IpamPlugin {
  const p = findIpam(type);
  if (!p) throw new Error(`failed to find plugin ${goQuote(type)} in path [${CNI_BIN_DIR}]`);
  return p;
}

/** ensureBridge: LinkAdd (an existing device of that name is fine), promiscuous mode, then it must be a bridge. */
function ensureBridge(host: NetNs, c: BridgeConf): Bridge {
  const name = c.bridge;
  const could = (why: string) =>
    new Error(`failed to create bridge ${goQuote(name)}: could not add ${goQuote(name)}: ${why}`);
  let dev = host.devs.get(name);
  if (!dev) {
    try {
      checkIfname(name);
    } catch {
      throw could('invalid argument');
    }
    if (c.mtu !== 0 && (c.mtu < 68 || c.mtu > 65535)) throw could('invalid argument');
    const br = createBridge(host, name);
    // IFLA_MTU at creation sets the MTU without marking it user-set: the bridge still follows its ports.
    if (c.mtu > 0) linkSetMtu(br, c.mtu);
    dev = br;
  }
  if (c.promiscMode) dev.promisc = true;
  if (!(dev instanceof Bridge))
    throw new Error(`failed to create bridge ${goQuote(name)}: ${goQuote(name)} already exists but is not a bridge`);
  linkSetUp(dev);
  return dev;
}

/** ensureAddr: the gateway address on the bridge, then the bridge's MAC pinned to `mac` (read before the veth). */
function ensureAddr(host: NetNs, br: Bridge, gw: Cidr, force: boolean, mac: number): void {
  const want = formatCidr(gw);
  for (const a of [...host.addrsOf(br)]) {
    if (a.addr === gw.addr && a.len === gw.len) return;
    if (!force) throw new Error(`${goQuote(br.name)} already has an IP address different from ${want}`);
    try {
      delAddr(host, br, a.addr, a.len);
    } catch (e) {
      throw new Error(`could not remove IP address from ${goQuote(br.name)}: ${errnoText(e)}`);
    }
  }
  try {
    addAddr(host, br, gw.addr, gw.len, { broadcast: 'auto' });
  } catch (e) {
    if (!(e instanceof NetlinkError && e.errno === 'EEXIST'))
      throw new Error(`could not add IP address ${want} to ${goQuote(br.name)}: ${errnoText(e)}`);
  }
  // Setting the address it already has still marks it as set: the bridge stops taking its lowest port's MAC.
  linkSetAddress(br, mac);
  br.setMac(mac);
}

/** netlink's operstate names, for the port check's message. */
function operStateName(s: string): string {
  return s === 'LOWERLAYERDOWN' ? 'lower-layer-down' : s.toLowerCase();
}

function dnsConfSet(d: Dns | undefined): d is Dns {
  return (
    d !== undefined && (d.nameservers !== undefined || d.search !== undefined || d.options !== undefined || !!d.domain)
  );
}

/** types.DNS as Go marshals it: empty fields omitted, fixed key order. */
function dnsOut(d: Dns | undefined): Dns {
  const o: Dns = {};
  if (d?.nameservers?.length) o.nameservers = [...d.nameservers];
  if (d?.domain) o.domain = d.domain;
  if (d?.search?.length) o.search = [...d.search];
  if (d?.options?.length) o.options = [...d.options];
  return o;
}

/** types.Route as Go marshals it: zero ints omitted, table and scope kept when set. */
function routeOut(r: ParsedRoute, src: Route | undefined): Route {
  const o: Route = { dst: formatCidr({ addr: r.dst, len: r.len }) };
  if (r.gw !== null) o.gw = formatIpv4(r.gw);
  if (src?.mtu) o.mtu = src.mtu;
  if (src?.advmss) o.advmss = src.advmss;
  if (r.priority) o.priority = r.priority;
  if (r.table !== undefined) o.table = r.table;
  if (r.scope !== undefined) o.scope = r.scope;
  return o;
}

function ipOut(ip: ParsedIp): IpConfig {
  const o: IpConfig = { interface: 2, address: formatCidr({ addr: ip.addr, len: ip.len }) };
  if (ip.gateway !== null) o.gateway = formatIpv4(ip.gateway);
  return o;
}

interface Gateways {
  gws: Cidr[];
}

/** calcGateways for IPv4: gateway per address, the default route when asked, the bridge addresses to set. */
function calcGateways(c: BridgeConf, ips: ParsedIp[], routes: { parsed: ParsedRoute; src?: Route }[]): Gateways {
  const g: Gateways = { gws: [] };
  let defaultRouteFound = false;
  for (const ip of ips) {
    ip.interface = 2;
    if (ip.gateway === null && c.isGateway) ip.gateway = (networkOf(ip) + 1) >>> 0;
    if (c.isDefaultGateway && !defaultRouteFound) {
      defaultRouteFound = routes.some((r) => r.parsed.gw !== null && r.parsed.dst === 0 && r.parsed.len === 0);
      if (!defaultRouteFound) {
        routes.push({
          parsed: {
            dst: 0,
            len: 0,
            gw: ip.gateway,
            priority: 0,
            table: undefined,
            scope: undefined,
            // The plugin builds this route from net.IPv4zero, whose mask is 16 bytes long.
            dstValue: ipNetValue(0, IPV4ZERO_MASK16_HEX),
          },
        });
        defaultRouteFound = true;
      }
    }
    if (c.isGateway) g.gws.push({ addr: ip.gateway!, len: ip.len });
  }
  return g;
}

function add(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): Result {
  const taken: { release?: () => void } = {};
  try {
    return addInner(conf, rt, env, (fn) => {
      taken.release = fn;
    });
  } catch (e) {
    try {
      taken.release?.();
    } catch {
      // The reference ignores the IPAM plugin's answer to this clean-up DEL.
    }
    throw asCniError(e);
  }
}

function addInner(conf: NetConf, rt: RuntimeInputs, env: PluginEnv, onIpam: (release: () => void) => void): Result {
  const c = loadBridgeConf(conf, rt);
  refuseUnmodelled(c);
  const isLayer3 = c.ipamType !== '';
  if (isLayer3 && c.disableContainerInterface)
    throw new Error('cannot use IPAM when DisableContainerInterface flag is set');
  if (c.isDefaultGateway) c.isGateway = true;
  if (c.hairpinMode && c.promiscMode) throw new Error('cannot set hairpin mode and promiscuous mode at the same time');

  const host = env.host;
  const br = ensureBridge(host, c);
  const brMacAtSetup = br.mac;
  const brIface: Interface = { name: br.name, mac: formatMac(br.mac) };
  if (!netnsAlive(env, rt.netns)) throw openNetnsError(rt.netns);
  const cont = rt.netns;

  const { host: hostVeth, cont: contVeth } = setupVeth(cont, host, rt.ifName, c.mtu, c.mac, env.kernel.rng);
  const contIface: Interface = { name: contVeth.name, mac: formatMac(contVeth.mac), sandbox: netnsPath(cont) };
  const hostIface: Interface = { name: hostVeth.name, mac: formatMac(hostVeth.mac) };
  try {
    linkSetMaster(hostVeth, br);
  } catch (e) {
    throw new Error(`failed to connect ${goQuote(hostVeth.name)} to bridge ${br.name}: ${errnoText(e)}`);
  }
  br.ports.get(hostVeth)!.hairpin = c.hairpinMode;

  const result: Result = { cniVersion: IMPLEMENTED_VERSION, interfaces: [brIface, hostIface, contIface] };

  if (isLayer3) {
    const ipam = ipamOf(c.ipamType);
    const r = ipam.add(conf, rt, env);
    onIpam(() => ipam.del(conf, rt, env));
    const ips = (r.ips ?? []).map(parseIpConfig);
    const routes: { parsed: ParsedRoute; src?: Route }[] = (r.routes ?? []).map((x) => ({
      parsed: parseRoute(x),
      src: x,
    }));
    if (ips.length === 0) throw new Error('IPAM plugin returned missing IP config');
    const gws = calcGateways(c, ips, routes);
    result.ips = ips.map(ipOut);
    if (routes.length > 0) result.routes = routes.map((x) => routeOut(x.parsed, x.src));
    configureIface(
      cont,
      rt.ifName,
      result,
      ips,
      routes.map((x) => x.parsed),
    );
    if (c.isGateway) {
      for (const gw of gws.gws) {
        try {
          ensureAddr(host, br, gw, c.forceAddress, brMacAtSetup);
        } catch (e) {
          throw new Error(`failed to set bridge addr: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      if (gws.gws.length > 0 && host.sysctl.get('net.ipv4.ip_forward') !== '1')
        host.sysctl.set('net.ipv4.ip_forward', '1');
    }
    if (c.ipMasq) setupIpMasqForNetworks(host, c.ipMasqBackend, ips, c.name, rt.containerId);
    result.dns = dnsOut(r.dns);
  } else if (!c.disableContainerInterface) {
    linkSetUp(contVeth);
  }

  if (!c.disableContainerInterface) {
    const state = hostVeth.operState();
    if (state !== 'UP') throw new Error(`bridge port in error state: ${operStateName(state)}`);
  }
  hostIface.mac = formatMac(hostVeth.mac);
  brIface.mac = formatMac(br.mac);
  if (dnsConfSet(conf.dns)) result.dns = dnsOut(conf.dns);
  else if (result.dns === undefined) result.dns = {};
  return result;
}

/** ip.DelLinkByNameAddr: the interface's global unicast IPv4 addresses, then the link is deleted. */
function delLinkByNameAddr(ns: NetNs, ifName: string): Cidr[] | null {
  const link = ns.devs.get(ifName);
  if (!link) return null;
  const out = ns
    .addrsOf(link)
    .filter((a) => isGlobalUnicast(a.addr))
    .map((a) => ({ addr: a.addr, len: a.len }));
  linkDelete(link);
  return out;
}

/** net.IP.IsGlobalUnicast for IPv4. */
function isGlobalUnicast(a: Ipv4): boolean {
  if (a === 0 || a === 0xffffffff) return false;
  if (a >>> 24 === 127 || a >>> 28 === 0xe) return false;
  return a >>> 16 !== 0xa9fe;
}

function del(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): void {
  try {
    const c = loadBridgeConf(conf, rt);
    const isLayer3 = c.ipamType !== '';
    const ipamDel = (): void => {
      if (isLayer3) ipamOf(c.ipamType).del(conf, rt, env);
    };
    if (!netnsAlive(env, rt.netns)) {
      ipamDel();
      return;
    }
    const ipnets = delLinkByNameAddr(rt.netns, rt.ifName);
    ipamDel();
    // With the interface already gone there is nothing to learn the addresses from: the rules stay, as in the
    // reference ("If the device isn't there then don't try to clean up IP masq either").
    if (isLayer3 && c.ipMasq) teardownIpMasqForNetworks(env.host, ipnets ?? [], c.name, rt.containerId);
  } catch (e) {
    throw asCniError(e);
  }
}

function check(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): void {
  try {
    checkInner(conf, rt, env);
  } catch (e) {
    throw asCniError(e);
  }
}

function checkInner(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): void {
  const c = loadBridgeConf(conf, rt);
  if (!netnsAlive(env, rt.netns)) throw openNetnsError(rt.netns);
  ipamOf(c.ipamType).check(conf, rt, env);
  const prev = conf.prevResult;
  if (prev === undefined || prev === null) throw new Error('Required prevResult missing');
  const sandbox = netnsPath(rt.netns);
  const ifaces = prev.interfaces ?? [];
  let brMap: Interface = { name: '' };
  let contMap: Interface = { name: '' };
  for (const intf of ifaces) {
    if (intf.name === c.bridge) brMap = intf;
    else if (intf.name === rt.ifName && intf.sandbox === sandbox) contMap = intf;
  }
  const brCni = validateCniBrInterface(env.host, brMap, c.promiscMode);
  if (sandbox !== (contMap.sandbox ?? ''))
    throw new Error(`Sandbox in prevResult ${contMap.sandbox ?? ''} doesn't match configured netns: ${sandbox}`);
  const contCni = validateCniContainerInterface(rt.netns, contMap);
  let vethCni: FoundIf | null = null;
  for (const intf of ifaces) {
    if (intf.name === brMap.name || intf.name === contMap.name) continue;
    vethCni = validateCniVethInterface(env.host, intf, brCni, contCni);
    if (vethCni.found) break;
  }
  if (!brCni.found) throw new Error(`CNI created bridge ${c.bridge} in host namespace was not found`);
  if (!contCni.found) throw new Error(`CNI created interface in container ${rt.ifName} not found`);
  if (!vethCni?.found) throw new Error(`CNI veth created for bridge ${c.bridge} was not found`);
  validateExpectedInterfaceIps(rt.netns, rt.ifName, (prev.ips ?? []).map(parseIpConfig));
  validateExpectedRoutes(rt.netns, (prev.routes ?? []).map(parseRoute));
}

export const bridgePlugin: Plugin = { type: 'bridge', add, del, check };

registerPlugin(bridgePlugin);
