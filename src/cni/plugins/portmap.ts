// The `portmap` plugin with its iptables backend (containernetworking/plugins plugins/meta/portmap): a chained
// plugin that forwards host ports to the pod, from the `portMappings` capability (runtimeConfig). In the host's nat
// table it keeps three shared chains and one per attachment:
//   PREROUTING, OUTPUT:  -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
//   CNI-HOSTPORT-DNAT:   -m comment --comment 'dnat name: "<net>" id: "<container id>"' -m multiport -p <proto>
//                        --destination-ports <up to 15 ports> [conditionsV4] -j CNI-DN-<hash>
//   CNI-DN-<hash>:       per mapping, -p <proto> --dport <hostPort> [-d <hostIP>] then
//                        -s <pod CIDR> -j CNI-HOSTPORT-SETMARK (hairpin), -s 127.0.0.1 -j CNI-HOSTPORT-SETMARK
//                        (from the host itself), -j DNAT --to-destination <pod IP>:<containerPort>
//   CNI-HOSTPORT-SETMARK: -j MARK --set-xmark 0x2000/0x2000 (bit markMasqBit, default 13)
//   POSTROUTING (first): -j CNI-HOSTPORT-MASQ;  CNI-HOSTPORT-MASQ: -m mark --mark 0x2000/0x2000 -j MASQUERADE
// <hash> is the SHA-512 of network name + container ID (CNI-DN- and 21 hex digits). ADD also deletes UDP conntrack
// entries for the host ports (stale flows would bypass the new DNAT) and sets route_localnet on the host interface
// that routes to the pod, so that 127.0.0.1 may be DNATed across it. DEL removes the per-attachment chain and its
// jumps (the shared chains stay, as in the reference); CHECK verifies them. With no mappings the plugin passes the
// result through and touches nothing. The previous result is passed through unchanged.
// Behaviour follows the current reference (masqAll, only the pod's address family checked); messages keep its
// wording. Limits: IPv6 (ip6tables) and the nftables backend are not modelled and refused with an error.

import { conntrackDelete } from '../../iptables/index.js';
import { ipRouteOutput } from '../../netns/route.js';
import { parseCidr, parseIpv4 } from '../../wire/addr.js';
import { registerPlugin } from '../registry.js';
import { CniError, type NetConf, type Plugin, type PluginEnv, type Result, type RuntimeInputs } from '../types.js';
import { formatChainNameWithPrefix } from './chain-name.js';
import { checkChain, Ipt, type IptChain, setupChain, teardownChain } from './iptables-chain.js';

export const TOP_LEVEL_DNAT_CHAIN = 'CNI-HOSTPORT-DNAT';
export const SETMARK_CHAIN = 'CNI-HOSTPORT-SETMARK';
export const MARK_MASQ_CHAIN = 'CNI-HOSTPORT-MASQ';
const OLD_TOP_LEVEL_SNAT_CHAIN = 'CNI-HOSTPORT-SNAT';
/** Kubernetes uses mark bits 14 and 15, Calico 20-31. */
export const DEFAULT_MARK_BIT = 13;

export interface PortMapEntry {
  hostPort: number;
  containerPort: number;
  protocol: string;
  hostIP?: string;
}

interface PortMapConf {
  name: string;
  containerId: string;
  snat: boolean;
  masqAll: boolean;
  markMasqBit: number;
  externalSetMarkChain: string | undefined;
  conditionsV4: string[] | undefined;
  portMaps: PortMapEntry[];
  /** The pod's IPv4 address with its prefix length, as the previous result gives it (`10.1.0.2/16`). */
  contIPv4: string | undefined;
}

function fail(msg: string): never {
  throw new CniError(999, msg);
}

function unmarshalError(field: string, v: unknown, goType: string): never {
  const kind = Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v;
  fail(
    `failed to parse network configuration: json: cannot unmarshal ${kind === 'boolean' ? 'bool' : kind} into Go struct field PortMapConf.${field} of type ${goType}`,
  );
}

function optBool(conf: NetConf, key: string): boolean | undefined {
  const v = conf[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') unmarshalError(key, v, 'bool');
  return v;
}

function optStrings(conf: NetConf, key: string): string[] | undefined {
  const v = conf[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) unmarshalError(key, v, '[]string');
  return v as string[];
}

function portMapsOf(conf: NetConf): PortMapEntry[] {
  const rc = conf.runtimeConfig;
  const raw = rc?.portMappings;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) unmarshalError('runtimeConfig.portMappings', raw, '[]main.PortMapEntry');
  return raw.map((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e))
      unmarshalError('runtimeConfig.portMappings', e, 'main.PortMapEntry');
    const o = e as Record<string, unknown>;
    const int = (k: string): number => {
      const v = o[k] ?? 0;
      if (typeof v !== 'number' || !Number.isInteger(v)) unmarshalError(`runtimeConfig.portMappings.${k}`, v, 'int');
      return v;
    };
    const str = (k: string): string => {
      const v = o[k] ?? '';
      if (typeof v !== 'string') unmarshalError(`runtimeConfig.portMappings.${k}`, v, 'string');
      return v;
    };
    const entry: PortMapEntry = {
      hostPort: int('hostPort'),
      containerPort: int('containerPort'),
      protocol: str('protocol'),
    };
    const hostIP = str('hostIP');
    if (hostIP !== '') entry.hostIP = hostIP;
    if (entry.protocol === '') throw new CniError(7, `portMappings[${i}] has no protocol`);
    return entry;
  });
}

/** detectBackendOfConditions: iptables conditions start with `-` or `!`, nftables ones never do. */
function conditionsBackend(c: string[] | undefined): 'iptables' | 'nftables' | '' {
  if (!c || c.length === 0 || c[0] === '') return '';
  return c[0]!.startsWith('-') || c[0]!.startsWith('!') ? 'iptables' : 'nftables';
}

/** parseConfig of the reference, for IPv4. */
function parseConfig(conf: NetConf, rt: RuntimeInputs): PortMapConf {
  const snat = optBool(conf, 'snat') ?? true;
  const masqAll = optBool(conf, 'masqAll') ?? false;
  const markRaw = conf.markMasqBit;
  if (markRaw !== undefined && markRaw !== null && (typeof markRaw !== 'number' || !Number.isInteger(markRaw)))
    unmarshalError('markMasqBit', markRaw, 'int');
  const ext = conf.externalSetMarkChain;
  if (ext !== undefined && ext !== null && typeof ext !== 'string')
    unmarshalError('externalSetMarkChain', ext, 'string');
  if (markRaw !== undefined && markRaw !== null && ext !== undefined && ext !== null)
    fail('Cannot specify externalSetMarkChain and markMasqBit');
  const markMasqBit = typeof markRaw === 'number' ? markRaw : DEFAULT_MARK_BIT;
  if (markMasqBit < 0 || markMasqBit > 31) fail('MasqMarkBit must be between 0 and 31');
  const conditionsV4 = optStrings(conf, 'conditionsV4');
  const conditionsV6 = optStrings(conf, 'conditionsV6');
  const backend = conf.backend ?? 'iptables';
  if (backend === 'nftables')
    throw new CniError(
      2,
      'unsupported field "backend": "nftables"',
      'podwire models the iptables backend of portmap only',
    );
  if (backend !== 'iptables') fail(`unrecognized backend ${JSON.stringify(backend)}`);
  const nft: string[] = [];
  if (conditionsBackend(conditionsV4) === 'nftables') nft.push('conditionsV4');
  if (conditionsBackend(conditionsV6) === 'nftables') nft.push('conditionsV6');
  if (nft.length > 0)
    fail(`iptables backend was requested but configuration contains nftables-specific options [${nft.join(' ')}]`);
  const portMaps = portMapsOf(conf);
  for (const pm of portMaps) {
    if (pm.containerPort <= 0) fail(`Invalid container port number: ${pm.containerPort}`);
    if (pm.hostPort <= 0) fail(`Invalid host port number: ${pm.hostPort}`);
  }
  let contIPv4: string | undefined;
  let contIPv6: string | undefined;
  const result = conf.prevResult;
  for (const ip of result?.ips ?? []) {
    const isV4 = parseCidr(ip.address) !== null;
    if ((isV4 && contIPv4) || (!isV4 && contIPv6)) continue;
    // Skip addresses of interfaces known not to be the pod's (another name, or on the host).
    if (ip.interface !== undefined && result?.interfaces) {
      const iface = result.interfaces[ip.interface];
      if (iface && (iface.name !== rt.ifName || !iface.sandbox)) continue;
    }
    if (isV4) contIPv4 = ip.address;
    else contIPv6 = ip.address;
  }
  if (contIPv6 !== undefined && portMaps.length > 0)
    throw new CniError(2, `portmap for IPv6 address ${contIPv6} is not supported`, 'podwire does not model ip6tables');
  return {
    name: conf.name,
    containerId: rt.containerId,
    snat,
    masqAll,
    markMasqBit,
    externalSetMarkChain: typeof ext === 'string' ? ext : undefined,
    conditionsV4,
    portMaps,
    contIPv4,
  };
}

function markDef(bit: number): string {
  const v = (1 << bit) >>> 0;
  return `0x${v.toString(16)}/0x${v.toString(16)}`;
}

function setMarkChain(bit: number): IptChain {
  return {
    table: 'nat',
    name: SETMARK_CHAIN,
    entryChains: [],
    entryRules: [],
    rules: [['-m', 'comment', '--comment', 'CNI portfwd masquerade mark', '-j', 'MARK', '--set-xmark', markDef(bit)]],
  };
}

function markMasqChain(bit: number): IptChain {
  return {
    table: 'nat',
    name: MARK_MASQ_CHAIN,
    entryChains: ['POSTROUTING'],
    // Prepended so that the bridge/ptp plugins' own masquerade rules do not stomp on it.
    prependEntry: true,
    entryRules: [['-m', 'comment', '--comment', 'CNI portfwd requiring masquerade']],
    rules: [['-m', 'mark', '--mark', markDef(bit), '-j', 'MASQUERADE']],
  };
}

function topLevelDnatChain(): IptChain {
  return {
    table: 'nat',
    name: TOP_LEVEL_DNAT_CHAIN,
    entryChains: ['PREROUTING', 'OUTPUT'],
    entryRules: [['-m', 'addrtype', '--dst-type', 'LOCAL']],
    rules: [],
  };
}

/** The per-attachment chain's name: CNI-DN- and the first 21 hex digits of SHA-512(network name + container ID). */
export function dnatChainName(netName: string, containerId: string): string {
  return formatChainNameWithPrefix(netName, containerId, 'DN-');
}

function dnatChain(netName: string, containerId: string): IptChain {
  return {
    table: 'nat',
    name: dnatChainName(netName, containerId),
    entryChains: [TOP_LEVEL_DNAT_CHAIN],
    entryRules: [],
    rules: [],
  };
}

/** trimComment: iptables comments hold at most 255 characters. */
function trimComment(s: string): string {
  return s.length <= 255 ? s : `${s.slice(0, 253)}...`;
}

function groupByProto(entries: PortMapEntry[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const e of entries) {
    const l = out.get(e.protocol);
    if (l) l.push(e.hostPort);
    else out.set(e.protocol, [e.hostPort]);
  }
  return out;
}

/** multiport takes at most 15 ports per rule. */
function splitPortList(ports: number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < ports.length; i += 15) out.push(ports.slice(i, i + 15).join(','));
  return out;
}

/** fillDnatRules for an IPv4 pod address (`10.1.0.2/16`). */
function fillDnatRules(c: IptChain, cfg: PortMapConf, containerNet: string): void {
  const comment = trimComment(`dnat name: ${JSON.stringify(cfg.name)} id: ${JSON.stringify(cfg.containerId)}`);
  const setMark = cfg.externalSetMarkChain ?? SETMARK_CHAIN;
  const byProto = groupByProto(cfg.portMaps);
  for (const proto of [...byProto.keys()].sort()) {
    for (const ports of splitPortList(byProto.get(proto)!)) {
      const r = ['-m', 'comment', '--comment', comment, '-m', 'multiport', '-p', proto, '--destination-ports', ports];
      if (cfg.conditionsV4?.length) r.push(...cfg.conditionsV4);
      c.entryRules.push(r);
    }
  }
  const podIp = containerNet.split('/')[0]!;
  c.rules = [];
  for (const e of cfg.portMaps) {
    let withDst = false;
    if (e.hostIP !== undefined) {
      const hostIp = parseIpv4(e.hostIP);
      // Only mappings of the pod's address family; an unspecified host address matches every local address.
      if (hostIp === null) continue;
      withDst = hostIp !== 0;
    }
    const base = ['-p', e.protocol, '--dport', String(e.hostPort), ...(withDst ? ['-d', e.hostIP!] : [])];
    if (cfg.snat) {
      c.rules.push([...base, '-s', cfg.masqAll ? '0.0.0.0/0' : containerNet, '-j', setMark]);
      if (!cfg.masqAll) c.rules.push([...base, '-s', '127.0.0.1', '-j', setMark]);
    }
    c.rules.push([...base, '-j', 'DNAT', '--to-destination', `${podIp}:${e.containerPort}`]);
  }
}

/** getRoutableHostIF: the host device the route to the pod leaves on ("" when there is none). */
function routableHostIf(env: PluginEnv, podIp: string): string {
  const dst = parseIpv4(podIp);
  if (dst === null) return '';
  const r = ipRouteOutput(env.host, dst);
  return typeof r === 'string' ? '' : r.dev.name;
}

function forwardPorts(ipt: Ipt, cfg: PortMapConf, containerNet: string): void {
  if (cfg.snat && cfg.externalSetMarkChain === undefined) {
    const sm = setMarkChain(cfg.markMasqBit);
    try {
      setupChain(ipt, sm);
    } catch (e) {
      fail(`unable to create chain ${sm.name}: ${(e as Error).message}`);
    }
    try {
      setupChain(ipt, markMasqChain(cfg.markMasqBit));
    } catch (e) {
      fail(`unable to create chain ${sm.name}: ${(e as Error).message}`);
    }
  }
  try {
    setupChain(ipt, topLevelDnatChain());
  } catch (e) {
    fail(`failed to create top-level DNAT chain: ${(e as Error).message}`);
  }
  const dn = dnatChain(cfg.name, cfg.containerId);
  fillDnatRules(dn, cfg, containerNet);
  try {
    setupChain(ipt, dn);
  } catch (e) {
    fail(`unable to setup DNAT: ${(e as Error).message}`);
  }
}

function add(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): Result {
  let cfg: PortMapConf;
  try {
    cfg = parseConfig(conf, rt);
  } catch (e) {
    const ce = e as CniError;
    throw new CniError(ce.code, `failed to parse config: ${ce.message}`, ce.details);
  }
  if (!conf.prevResult) fail('must be called as chained plugin');
  const passThrough = { ...conf.prevResult, cniVersion: conf.cniVersion };
  if (cfg.portMaps.length === 0 || cfg.contIPv4 === undefined) return passThrough;
  forwardPorts(new Ipt(env.host), cfg, cfg.contIPv4);
  // Stale UDP flows to the host ports would keep bypassing the new DNAT; failures here are only informative.
  for (const pm of cfg.portMaps)
    if (pm.protocol.toLowerCase() === 'udp') conntrackDelete(env.host, { proto: 17, origDport: pm.hostPort });
  if (cfg.snat) {
    const dev = routableHostIf(env, cfg.contIPv4.split('/')[0]!);
    if (dev !== '') {
      try {
        env.host.sysctl.set(`net.ipv4.conf.${dev}.route_localnet`, '1');
      } catch (e) {
        fail(`unable to enable route_localnet: ${(e as Error).message}`);
      }
    }
  }
  return passThrough;
}

function del(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): void {
  let cfg: PortMapConf;
  try {
    cfg = parseConfig(conf, rt);
  } catch (e) {
    const ce = e as CniError;
    throw new CniError(ce.code, `failed to parse config: ${ce.message}`, ce.details);
  }
  if (cfg.portMaps.length === 0) return;
  const ipt = new Ipt(env.host);
  // No rules are generated: the jumps are found by listing CNI-HOSTPORT-DNAT, so DEL works without prevResult.
  try {
    teardownChain(ipt, dnatChain(cfg.name, cfg.containerId));
  } catch (e) {
    fail(`could not teardown ipv4 dnat: ${(e as Error).message}`);
  }
  // Chains of plugin versions before 0.8 may be lying around.
  const oldSnat: IptChain = {
    table: 'nat',
    name: formatChainNameWithPrefix(cfg.name, cfg.containerId, 'SN-'),
    entryChains: [OLD_TOP_LEVEL_SNAT_CHAIN],
    entryRules: [],
    rules: [],
  };
  try {
    teardownChain(ipt, oldSnat);
  } catch {
    // The reference ignores failures on the old chain.
  }
}

function check(conf: NetConf, rt: RuntimeInputs, env: PluginEnv): void {
  const cfg = parseConfig(conf, rt);
  if (!conf.prevResult) fail('Required prevResult missing');
  if (cfg.portMaps.length === 0 || cfg.contIPv4 === undefined) return;
  const dn = dnatChain(cfg.name, cfg.containerId);
  fillDnatRules(dn, cfg, cfg.contIPv4);
  try {
    checkChain(new Ipt(env.host), dn);
  } catch (e) {
    fail(`could not check ipv4 dnat: ${(e as Error).message}`);
  }
}

export const portmapPlugin: Plugin = { type: 'portmap', add, del, check };

registerPlugin(portmapPlugin);
