// The bridge plugin's configuration as the reference's loadNetConf reads it: Go's encoding/json rules (keys match
// exactly or else ignoring case, `null` keeps the default, a value of the wrong JSON kind is an error naming the
// field), the default bridge name `cni0`, the VLAN range check, and the container MAC taken from CNI_ARGS `MAC`,
// then `args.cni.mac`, then `runtimeConfig.mac` (the last one wins). Options whose kernel features podwire does not
// model (VLAN filtering, MAC spoof checking, port isolation, the nftables masquerade backend) are refused by name.
// Limits: `enabledad` only concerns IPv6 duplicate address detection, which podwire does not model: it is accepted
// and has no effect, as IPv6 as a whole.

import type { NetConf, RuntimeInputs } from '../../types.js';
import { goQuote } from './go-format.js';

export const DEFAULT_BRIDGE_NAME = 'cni0';

export interface BridgeConf {
  name: string;
  cniVersion: string;
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  forceAddress: boolean;
  ipMasq: boolean;
  ipMasqBackend: string | undefined;
  mtu: number;
  hairpinMode: boolean;
  promiscMode: boolean;
  vlan: number;
  preserveDefaultVlan: boolean;
  macSpoofChk: boolean;
  enableDad: boolean;
  disableContainerInterface: boolean;
  portIsolation: boolean;
  /** `ipam.type`, or '' for a layer-2 only attachment. */
  ipamType: string;
  /** MAC for the container end, if any source asked for one. */
  mac: string | undefined;
  /** `vlanTrunk` was given. */
  vlanTrunk: boolean;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** encoding/json's key lookup: exact, else the first key equal ignoring case. */
function field(o: Obj, key: string): unknown {
  if (Object.hasOwn(o, key)) return o[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (isObj(v)) return 'object';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

function typeError(v: unknown, path: string, goType: string): Error {
  return new Error(
    `failed to load netconf: json: cannot unmarshal ${jsonKind(v)} into Go struct field ${path} of type ${goType}`,
  );
}

function bool(o: Obj, key: string, path = 'NetConf'): boolean {
  const v = field(o, key);
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw typeError(v, `${path}.${key}`, 'bool');
  return v;
}

function int(o: Obj, key: string): number {
  const v = field(o, key);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number') throw typeError(v, `NetConf.${key}`, 'int');
  if (!Number.isInteger(v))
    throw new Error(
      `failed to load netconf: json: cannot unmarshal number ${v} into Go struct field NetConf.${key} of type int`,
    );
  return v;
}

function str(o: Obj, key: string, path = 'NetConf'): string | undefined {
  const v = field(o, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw typeError(v, `${path}.${key}`, 'string');
  return v;
}

function obj(o: Obj, key: string, path: string, goType: string): Obj {
  const v = field(o, key);
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw typeError(v, `${path}.${key}`, goType);
  return v;
}

/** types.LoadArgs into MacEnvArgs: only `IgnoreUnknown` and `MAC` are known keys. */
function macFromCniArgs(args: Record<string, string>): string | undefined {
  let mac: string | undefined;
  let ignoreUnknown = false;
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    const pair = `${k}=${v}`;
    if (k === 'MAC') mac = v;
    else if (k === 'IgnoreUnknown') {
      const s = v.toLowerCase();
      if (s === '1' || s === 'true') ignoreUnknown = true;
      else if (s === '0' || s === 'false') ignoreUnknown = false;
      else
        throw new Error(
          `ARGS: error parsing value of pair ${goQuote(pair)}: boolean unmarshal error: invalid input ${s}`,
        );
    } else unknown.push(pair);
  }
  if (unknown.length > 0 && !ignoreUnknown) throw new Error(`ARGS: unknown args [${unknown.map(goQuote).join(' ')}]`);
  return mac === '' ? undefined : mac;
}

/** loadNetConf. Throws Error with the reference's wording. */
export function loadBridgeConf(conf: NetConf, rt: RuntimeInputs): BridgeConf {
  const o = conf as unknown as Obj;
  const vlan = int(o, 'vlan');
  if (vlan < 0 || vlan > 4094) throw new Error(`invalid VLAN ID ${vlan} (must be between 0 and 4094)`);
  const trunk = field(o, 'vlanTrunk');
  const ipam = obj(o, 'ipam', 'NetConf', 'types.IPAM');
  const args = obj(obj(o, 'args', 'NetConf', 'struct'), 'cni', 'NetConf.args', 'main.BridgeArgs');
  const runtimeConfig = obj(o, 'runtimeConfig', 'NetConf', 'struct');
  let mac = Object.keys(rt.args).length > 0 ? macFromCniArgs(rt.args) : undefined;
  const argsMac = str(args, 'mac', 'NetConf.args.cni');
  if (argsMac) mac = argsMac;
  const rcMac = str(runtimeConfig, 'mac', 'NetConf.runtimeConfig');
  if (rcMac) mac = rcMac;
  const c: BridgeConf = {
    name: conf.name,
    cniVersion: conf.cniVersion,
    bridge: str(o, 'bridge') || DEFAULT_BRIDGE_NAME,
    isGateway: bool(o, 'isGateway'),
    isDefaultGateway: bool(o, 'isDefaultGateway'),
    forceAddress: bool(o, 'forceAddress'),
    ipMasq: bool(o, 'ipMasq'),
    ipMasqBackend: str(o, 'ipMasqBackend'),
    mtu: int(o, 'mtu'),
    hairpinMode: bool(o, 'hairpinMode'),
    promiscMode: bool(o, 'promiscMode'),
    vlan,
    preserveDefaultVlan: bool(o, 'preserveDefaultVlan'),
    macSpoofChk: bool(o, 'macspoofchk'),
    enableDad: bool(o, 'enabledad'),
    disableContainerInterface: bool(o, 'disableContainerInterface'),
    portIsolation: bool(o, 'portIsolation'),
    ipamType: str(ipam, 'type', 'NetConf.ipam') ?? '',
    mac,
    vlanTrunk: trunk !== undefined && trunk !== null,
  };
  return c;
}

/** What ADD cannot do in podwire; DEL and CHECK accept these configurations (nothing was made for them). */
export function refuseUnmodelled(c: BridgeConf): void {
  const vlan = c.vlan;
  if (vlan !== 0)
    throw new Error(`vlan ${vlan} is not supported by podwire: bridge VLAN filtering is not modelled (use vlan 0)`);
  if (c.vlanTrunk) throw new Error('vlanTrunk is not supported by podwire: bridge VLAN filtering is not modelled');
  if (c.macSpoofChk)
    throw new Error('macspoofchk is not supported by podwire: the nftables MAC spoof check is not modelled');
  if (c.portIsolation)
    throw new Error('portIsolation is not supported by podwire: isolated bridge ports are not modelled');
  if (c.ipMasq && c.ipMasqBackend === 'nftables')
    throw new Error('ipMasqBackend "nftables" is not supported by podwire (only the iptables backend is modelled)');
}
