// The flannel CNI plugin's configuration and the delegate configuration it builds (flannel-io/cni-plugin
// flannel.go and flannel_linux.go):
// - its own NetConf: subnetFile (default /run/flannel/subnet.env), dataDir (default /var/lib/cni/flannel),
//   delegate, ipam and runtimeConfig as free-form maps, decoded with Go's rules (case-insensitive keys, a value of
//   the wrong kind is `failed to load netconf: json: cannot unmarshal …`);
// - the delegate: the given `delegate` map (which must not name `name` or `ipam`, and whose `type` must be a
//   string) with name = the network's name, type bridge by default, ipMasq = !FLANNEL_IPMASQ and mtu =
//   FLANNEL_MTU unless given, isGateway true for bridge unless given, cniVersion = the network's, runtimeConfig =
//   the plugin's, and ipam = the plugin's `ipam` map with type host-local by default, ranges
//   [[{subnet: FLANNEL_SUBNET}]] and routes = its own routes followed by one per FLANNEL_NETWORK network;
// - the bytes: json.Marshal of that map, so keys come out sorted (Go map order) and routes in types.Route's field
//   order (dst, gw, mtu, advmss, priority, table, scope), which is exactly what is saved for DEL and sent on.

import { goParseCidr } from '../../../overlay/flannel/go-net.js';
import { formatCidr, parseIpv4 } from '../../../wire/addr.js';
import { goMarshal, sortKeysDeep } from '../../spec/gojson.js';
import { isObject, type JsonObject, type JsonValue } from '../../spec/json.js';
import type { NetConf } from '../../types.js';
import type { FlannelSubnetEnv } from './subnet-env.js';

export const DEFAULT_SUBNET_FILE = '/run/flannel/subnet.env';
export const DEFAULT_DATA_DIR = '/var/lib/cni/flannel';

export interface FlannelPluginConf {
  name: string;
  cniVersion: string;
  subnetFile: string;
  dataDir: string;
  delegate: JsonObject | null;
  ipam: JsonObject | null;
  runtimeConfig: JsonObject | null;
}

type Obj = Record<string, unknown>;

function field(o: Obj, key: string): { present: boolean; value: unknown } {
  if (Object.hasOwn(o, key)) return { present: true, value: o[key] };
  const lower = key.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return { present: true, value: o[k] };
  return { present: false, value: undefined };
}

function kind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (isObject(v)) return 'object';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

function typeError(v: unknown, name: string, goType: string): Error {
  return new Error(
    `failed to load netconf: json: cannot unmarshal ${kind(v)} into Go struct field NetConf.${name} of type ${goType}`,
  );
}

function str(o: Obj, key: string, def: string): string {
  const f = field(o, key);
  if (!f.present || f.value === null) return def;
  if (typeof f.value !== 'string') throw typeError(f.value, key, 'string');
  return f.value;
}

/** A map[string]interface{} member: null makes it nil. */
function map(o: Obj, key: string): JsonObject | null {
  const f = field(o, key);
  if (!f.present || f.value === null) return null;
  if (!isObject(f.value)) throw typeError(f.value, key, 'map[string]interface {}');
  return structuredClone(f.value);
}

/** loadFlannelNetConf. */
export function loadFlannelPluginConf(conf: NetConf): FlannelPluginConf {
  const o = conf as unknown as Obj;
  return {
    cniVersion: str(o, 'cniVersion', ''),
    name: str(o, 'name', ''),
    subnetFile: str(o, 'subnetFile', DEFAULT_SUBNET_FILE),
    dataDir: str(o, 'dataDir', DEFAULT_DATA_DIR),
    delegate: map(o, 'delegate'),
    ipam: map(o, 'ipam'),
    runtimeConfig: map(o, 'runtimeConfig'),
  };
}

/** types.Route after a JSON round trip, as a JSON object in the struct's field order. */
function routeJson(v: JsonValue, i: number): JsonObject {
  const fail = (what: string): never => {
    throw new Error(`failed to parse ipam.routes: ${what}`);
  };
  if (!isObject(v)) return fail(`json: cannot unmarshal ${kind(v)} into Go value of type types.route`);
  const out: JsonObject = {};
  const dst = field(v, 'dst').value;
  if (dst === undefined || dst === null) out.dst = '<nil>';
  else {
    if (typeof dst !== 'string') return fail(`json: cannot unmarshal ${kind(dst)} into Go value of type string`);
    const p = goParseCidr(dst);
    if (!p.ok) return fail(p.error);
    if (p.v6) return fail(`routes[${i}]: IPv6 routes are not supported by podwire`);
    // types.ParseCIDR keeps the address as written (host bits included).
    const slash = dst.indexOf('/');
    out.dst = formatCidr({ addr: parseIpv4(dst.slice(0, slash))!, len: p.cidr.len });
  }
  const gw = field(v, 'gw').value;
  if (gw !== undefined && gw !== null && gw !== '') {
    if (typeof gw !== 'string')
      return fail(`json: cannot unmarshal ${kind(gw)} into Go struct field route.gw of type net.IP`);
    if (parseIpv4(gw) === null) return fail(`invalid IP address: ${gw}`);
    out.gw = gw;
  }
  for (const [name, omitZero] of [
    ['mtu', true],
    ['advmss', true],
    ['priority', true],
    ['table', false],
    ['scope', false],
  ] as const) {
    const x = field(v, name).value;
    if (x === undefined || x === null) continue;
    if (typeof x !== 'number' || !Number.isInteger(x))
      return fail(`json: cannot unmarshal ${kind(x)} into Go struct field route.${name} of type int`);
    if (omitZero && x === 0) continue;
    out[name] = x;
  }
  return out;
}

/** getDelegateIPAM: the delegate's ipam section and its routes (kept apart: they marshal in struct order). */
function delegateIpam(pc: FlannelPluginConf, env: FlannelSubnetEnv): { ipam: JsonObject; routes: JsonObject[] } {
  const ipam: JsonObject = pc.ipam ?? {};
  if (!Object.hasOwn(ipam, 'type')) ipam.type = 'host-local';
  ipam.ranges = [[{ subnet: formatCidr(env.subnet) }]];
  let routes: JsonObject[] = [];
  if (Object.hasOwn(ipam, 'routes')) {
    const r = ipam.routes;
    try {
      if (r === null) routes = [];
      else if (!Array.isArray(r))
        throw new Error(
          `failed to parse ipam.routes: json: cannot unmarshal ${kind(r)} into Go value of type []types.Route`,
        );
      else routes = r.map(routeJson);
    } catch (e) {
      throw new Error(`failed to assemble Delegate IPAM: failed to read IPAM routes: ${(e as Error).message}`);
    }
  }
  for (const n of env.networks) routes.push({ dst: formatCidr(n) });
  ipam.routes = [];
  return { ipam, routes };
}

/** cmdAdd's checks of the delegate map and doCmdAdd's assembly; returns the delegate's type and its bytes. */
export function buildDelegate(pc: FlannelPluginConf, env: FlannelSubnetEnv): { type: string; bytes: string } {
  const d: JsonObject = pc.delegate ?? {};
  if (pc.delegate !== null) {
    if (Object.hasOwn(d, 'type') && typeof d.type !== 'string')
      throw new Error("'delegate' dictionary, if present, must have (string) 'type' field");
    if (Object.hasOwn(d, 'name'))
      throw new Error("'delegate' dictionary must not have 'name' field, it'll be set by flannel");
    if (Object.hasOwn(d, 'ipam'))
      throw new Error("'delegate' dictionary must not have 'ipam' field, it'll be set by flannel");
  }
  if (pc.runtimeConfig !== null) d.runtimeConfig = pc.runtimeConfig;
  d.name = pc.name;
  if (!Object.hasOwn(d, 'type')) d.type = 'bridge';
  if (!Object.hasOwn(d, 'ipMasq')) d.ipMasq = !env.ipMasq;
  if (!Object.hasOwn(d, 'mtu')) d.mtu = env.mtu;
  if (d.type === 'bridge' && !Object.hasOwn(d, 'isGateway')) d.isGateway = true;
  if (pc.cniVersion !== '') d.cniVersion = pc.cniVersion;
  const { ipam, routes } = delegateIpam(pc, env);
  d.ipam = ipam;
  const sorted = sortKeysDeep(d) as JsonObject;
  (sorted.ipam as JsonObject).routes = routes;
  return { type: d.type as string, bytes: goMarshal(sorted) };
}
