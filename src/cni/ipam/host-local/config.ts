// host-local's configuration (containernetworking/plugins host-local allocator/config.go, LoadIPAMConfig): the
// `ipam` section of the calling plugin's configuration with `ranges` (a list of range sets, each a list of
// `{subnet, rangeStart, rangeEnd, gateway}`), the legacy single range written directly in `ipam` (put first),
// `runtimeConfig.ipRanges` (put before both), `routes`, `dataDir` and `resolvConf`; and the requested addresses
// in the reference's order: CNI_ARGS `IP=`, then `args.cni.ips`, then `runtimeConfig.ips` (the `ips`
// capability, which the runtime injects into runtimeConfig as libcni does). CNI_ARGS are read like the CNI
// library's LoadArgs: only `IP` and `IgnoreUnknown` are known, anything else is refused unless IgnoreUnknown is
// true. Validation runs in the reference's order with its messages ("invalid range set 0: …",
// "range set 0 overlaps with 1").
// Limits: IPv4 only; IPv6 subnets, addresses and routes are refused with "IPv6 is not supported by podwire".

import { formatIpv4, type Ipv4 } from '../../../wire/addr.js';
import type { NetConf, Route } from '../../types.js';
import {
  type CidrText,
  decodeError,
  type IpText,
  ipv6Refused,
  isObject,
  type Json,
  type JsonObject,
  optArray,
  optCidr,
  optInt,
  optIp,
  optObject,
  optString,
  parseIpArg,
} from './decode.js';
import { canonicalizeRangeSet, type RangeSet, type RangeSpec, rangeSetsOverlap } from './range.js';

export interface IpamConfig {
  /** The network's name: the store's directory under dataDir. */
  name: string;
  cniVersion: string;
  type: string;
  ranges: RangeSet[];
  routes: Route[];
  /** As configured; '' means the default /var/lib/cni/networks. */
  dataDir: string;
  resolvConf: string;
  /** Requested addresses, in request order, duplicates kept as given. */
  ipArgs: Ipv4[];
}

/** `at` is the Go prefix of the range's fields: `IPAMConfig.ipam` (legacy form) or `Range.ipam.ranges`. */
function decodeRangeSpec(obj: JsonObject, at: string): RangeSpec {
  const spec: RangeSpec = {};
  const subnet = optCidr(obj, 'subnet', `${at}.subnet`);
  const rangeStart = optIp(obj, 'rangeStart', `${at}.rangeStart`);
  const rangeEnd = optIp(obj, 'rangeEnd', `${at}.rangeEnd`);
  const gateway = optIp(obj, 'gateway', `${at}.gateway`);
  if (subnet !== undefined) spec.subnet = subnet;
  if (rangeStart !== undefined) spec.rangeStart = rangeStart;
  if (rangeEnd !== undefined) spec.rangeEnd = rangeEnd;
  if (gateway !== undefined) spec.gateway = gateway;
  return spec;
}

/** `list` is `ranges` (at `IPAMConfig.ipam.ranges`) or `ipRanges` (at `.runtimeConfig.ipRanges`). */
function decodeRangeSets(list: Json[], at: string, rangeAt: string): RangeSpec[][] {
  return list.map((set) => {
    if (!Array.isArray(set)) throw decodeError(set, at, 'allocator.RangeSet');
    return set.map((r) => {
      if (!isObject(r)) throw decodeError(r, at, 'allocator.Range');
      return decodeRangeSpec(r, rangeAt);
    });
  });
}

function cidrText(c: CidrText): string {
  return 'v6' in c ? c.v6 : `${formatIpv4(c.v4.addr)}/${c.v4.len}`;
}

function decodeRoute(v: Json, i: number): Route {
  // types.Route decodes itself, so Go's errors name the list rather than the route's field.
  const at = 'IPAMConfig.ipam.routes';
  if (!isObject(v)) throw decodeError(v, at, 'types.route');
  const dst = optCidr(v, 'dst', at);
  const gw = optIp(v, 'gw', at);
  const mtu = optInt(v, 'mtu', at);
  const advmss = optInt(v, 'advmss', at);
  const priority = optInt(v, 'priority', at);
  const table = optInt(v, 'table', at);
  const scope = optInt(v, 'scope', at);
  // The reference would print a route to "<nil>"; a route without a destination is refused instead.
  if (dst === undefined) throw new Error(`invalid route ${i}: dst is required`);
  if ('v6' in dst) throw ipv6Refused(`route dst ${dst.v6}`);
  if (gw !== undefined && 'v6' in gw) throw ipv6Refused(`route gw ${gw.v6}`);
  const route: Route = { dst: cidrText(dst) };
  if (gw !== undefined && 'v4' in gw) route.gw = formatIpv4(gw.v4);
  if (mtu !== undefined && mtu !== 0) route.mtu = mtu;
  if (advmss !== undefined && advmss !== 0) route.advmss = advmss;
  if (priority !== undefined && priority !== 0) route.priority = priority;
  if (table !== undefined) route.table = table;
  if (scope !== undefined) route.scope = scope;
  return route;
}

function orUndefined(v: Json): Json {
  return v === null ? undefined : v;
}

function decodeIpList(list: Json[] | undefined, at: string): IpText[] {
  const out: IpText[] = [];
  for (const v of list ?? []) {
    if (typeof v !== 'string') throw decodeError(v, at, '*ip.IP');
    const ip = parseIpArg(v);
    if (ip === null) throw new Error(`invalid IP address ${v}`);
    if (ip !== undefined) out.push(ip);
  }
  return out;
}

/** LoadArgs into host-local's env args: `IP` and `IgnoreUnknown`, both TextUnmarshalers. */
function loadEnvArgs(envArgs: Record<string, string>): IpText | undefined {
  let ip: IpText | undefined;
  let ignoreUnknown = false;
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(envArgs)) {
    const pair = `${k}=${v}`;
    if (k === 'IP') {
      const parsed = parseIpArg(v);
      if (parsed === null) {
        throw new Error(`ARGS: error parsing value of pair ${JSON.stringify(pair)}: invalid IP address ${v}`);
      }
      ip = parsed;
    } else if (k === 'IgnoreUnknown') {
      const s = v.toLowerCase();
      if (s === '1' || s === 'true') ignoreUnknown = true;
      else if (s === '0' || s === 'false') ignoreUnknown = false;
      else {
        throw new Error(
          `ARGS: error parsing value of pair ${JSON.stringify(pair)}: boolean unmarshal error: invalid input ${s}`,
        );
      }
    } else {
      unknown.push(pair);
    }
  }
  if (unknown.length > 0 && !ignoreUnknown) {
    throw new Error(`ARGS: unknown args [${unknown.map((p) => JSON.stringify(p)).join(' ')}]`);
  }
  return ip;
}

/** version.GreaterThanOrEqualTo(v, "0.3.0"); an unparsable version is not. */
function atLeast030(version: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (m === null) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > 0 || min >= 3;
}

export function loadIpamConfig(conf: NetConf, envArgs: Record<string, string>): IpamConfig {
  const rawIpam: Json = conf.ipam;
  if (rawIpam === undefined || rawIpam === null) throw new Error("IPAM config missing 'ipam' key");
  if (!isObject(rawIpam)) throw decodeError(rawIpam, 'Net.ipam', 'allocator.IPAMConfig');
  const ipam = rawIpam;

  const legacy = decodeRangeSpec(ipam, 'IPAMConfig.ipam');
  const type = optString(ipam, 'type', 'IPAMConfig.ipam.type') ?? '';
  const routes = (optArray(ipam, 'routes', 'IPAMConfig.ipam.routes', '[]*types.Route') ?? []).map(decodeRoute);
  const dataDir = optString(ipam, 'dataDir', 'IPAMConfig.ipam.dataDir') ?? '';
  const resolvConf = optString(ipam, 'resolvConf', 'IPAMConfig.ipam.resolvConf') ?? '';
  const rangesAt = 'IPAMConfig.ipam.ranges';
  const ranges = decodeRangeSets(
    optArray(ipam, 'ranges', rangesAt, '[]allocator.RangeSet') ?? [],
    rangesAt,
    'Range.ipam.ranges',
  );

  const rc = orUndefined(conf.runtimeConfig);
  if (rc !== undefined && !isObject(rc)) throw decodeError(rc, 'Net.runtimeConfig', 'struct');
  const ipRangesAt = '.runtimeConfig.ipRanges';
  const rcRanges =
    rc === undefined
      ? []
      : decodeRangeSets(
          optArray(rc, 'ipRanges', ipRangesAt, '[]allocator.RangeSet') ?? [],
          ipRangesAt,
          'Range.runtimeConfig.ipRanges',
        );
  const rcIps =
    rc === undefined ? [] : decodeIpList(optArray(rc, 'ips', '.runtimeConfig.ips', '[]*ip.IP'), '.runtimeConfig.ips');

  const args = orUndefined(conf.args);
  if (args !== undefined && !isObject(args)) throw decodeError(args, 'Net.args', 'struct');
  const cniArgs = args === undefined ? undefined : optObject(args, 'cni', '.args.cni', 'allocator.IPAMArgs');
  const argIps =
    cniArgs === undefined
      ? []
      : decodeIpList(optArray(cniArgs, 'ips', 'IPAMArgs.args.cni.ips', '[]*ip.IP'), 'IPAMArgs.args.cni.ips');

  const requested: IpText[] = [];
  const envIp = loadEnvArgs(envArgs);
  if (envIp !== undefined) requested.push(envIp);
  requested.push(...argIps, ...rcIps);
  const ipArgs = requested.map((ip) => {
    if ('v6' in ip) throw new Error(`cannot understand ip: ${ipv6Refused(ip.v6).message}`);
    return ip.v4;
  });

  const specs: RangeSpec[][] = [...rcRanges, ...(legacy.subnet !== undefined ? [[legacy]] : []), ...ranges];
  if (specs.length === 0) throw new Error('no IP ranges specified');

  const sets = specs.map((s, i) => {
    try {
      return canonicalizeRangeSet(s);
    } catch (e) {
      throw new Error(`invalid range set ${i}: ${(e as Error).message}`);
    }
  });

  if (sets.length > 1 && !atLeast030(conf.cniVersion)) {
    throw new Error(`CNI version ${conf.cniVersion} does not support more than 1 address per family`);
  }

  for (let i = 0; i < sets.length - 1; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      if (rangeSetsOverlap(sets[i]!, sets[j]!)) throw new Error(`range set ${i} overlaps with ${j}`);
    }
  }

  return { name: conf.name, cniVersion: conf.cniVersion, type, ranges: sets, routes, dataDir, resolvConf, ipArgs };
}
