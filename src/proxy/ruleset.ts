// The iptables-restore payload of one kube-proxy sync (pkg/proxy/iptables/proxier.go syncProxyRules, v1.35/v1.36),
// line for line: the filter table (KUBE-SERVICES/KUBE-EXTERNAL-SERVICES REJECT and DROP rules, KUBE-NODEPORTS health
// check ACCEPTs, KUBE-PROXY-FIREWALL drops, KUBE-FIREWALL's anti-martian rule, KUBE-FORWARD), then the nat table
// (KUBE-POSTROUTING, KUBE-MARK-MASQ, KUBE-SERVICES captures, KUBE-NODEPORTS, and per service port the EXT, FW, SVC,
// SVL and SEP chains with `-m statistic` spreading, `-m recent` affinity and DNAT). Top-level chains are always
// declared (so flushed and rewritten); on a partial sync the per-service chains of unchanged Services are left out
// and keep their rules in the kernel. Stale service chains are flushed and deleted (`-X`). Over 1000 endpoints
// ("large cluster mode") the per-endpoint comments are dropped. Services are written in name order (upstream's
// order follows a Go map, so any order is as faithful). With a cache, the lines of a Service that changed neither
// itself nor its endpoints since the last sync are repeated instead of recomputed.

import {
  isServiceChainName,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './chains.js';
import type { EndpointsMap, ServicePortMap } from './changetracker.js';
import type { EndpointInfo } from './endpoint.js';
import { netContains, parseCidrSloppy, parseIpSloppy } from './ip.js';
import type { LocalDetector, NodePortAddresses } from './netconfig.js';
import { externallyAccessible, type ServicePortInfo, usesClusterEndpoints, usesLocalEndpoints } from './serviceport.js';
import { categorizeEndpoints } from './topology.js';

export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;
export const NFACCT_CT_STATE_INVALID_DROPPED = 'ct_state_invalid_dropped_pkts';
export const NFACCT_LOCALHOST_NODEPORTS_ACCEPTED = 'localhost_nps_accepted_pkts';

export interface RulesetConfig {
  nodeName: string;
  /** The node IP (allows the node through loadBalancerSourceRanges that contain it). */
  nodeIP: string | null;
  /** `0x00004000` as kube-proxy formats 1 << masqueradeBit. */
  masqueradeMark: string;
  masqueradeAll: boolean;
  localDetector: LocalDetector | null;
  localhostNodePorts: boolean;
  conntrackTCPLiberal: boolean;
  randomFully: boolean;
  /** nfacct objects kube-proxy managed to create. */
  nfacct: { ctStateInvalidDropped: boolean; localhostNodePortsAccepted: boolean };
  nodePortAddresses: NodePortAddresses;
  /** topology.kubernetes.io/zone of this node ('' when unlabelled). */
  zone: string;
}

export interface SyncInput {
  services: ServicePortMap;
  endpoints: EndpointsMap;
  fullSync: boolean;
  /** Services (namespace/name) whose chains a partial sync rewrites. */
  changed: ReadonlySet<string>;
  /** nat chains present now (iptables-save -t nat), or null to skip stale chain deletion this time. */
  existingNatChains: Iterable<string> | null;
  /** Node addresses inside --nodeport-addresses (used when they are not "all"). */
  nodePortIPs: readonly string[];
  /** What earlier syncs wrote for each service port, reused while it and its endpoints are unchanged. */
  cache?: RulesetCache;
}

interface CachedService {
  endpoints: readonly EndpointInfo[];
  zone: string;
  large: boolean;
  /** filter lines, and the nat lines outside the service's own chains (KUBE-SERVICES, KUBE-NODEPORTS). */
  filter: string[];
  nat: string[];
  /** Rules in the service's own chains, and those chains. */
  chainRules: number;
  active: string[];
  noLocalInternal: number;
  noLocalExternal: number;
}

/** Per service port, the lines of the last sync that wrote them (a partial sync repeats them verbatim). */
export type RulesetCache = WeakMap<ServicePortInfo, CachedService>;

export interface SyncOutput {
  payload: string;
  activeNatChains: Set<string>;
  largeClusterMode: boolean;
  totalEndpoints: number;
  filterRules: number;
  natRules: number;
  /** nat rules of unchanged Services that a partial sync left out. */
  skippedNatRules: number;
  deletedChains: string[];
  noLocalEndpointsInternal: number;
  noLocalEndpointsExternal: number;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Go's `%0.10f` of 1/n (ties to even on the exact binary value, which only 1/2048 hits). */
export function computeProbability(n: number): string {
  if (isPowerOfTwo(n)) {
    const den = BigInt(n);
    const num = 10n ** 10n;
    let q = num / den;
    const r2 = (num % den) * 2n;
    if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
    const s = q.toString().padStart(11, '0');
    return `${s.slice(0, -10)}.${s.slice(-10)}`;
  }
  return (1 / n).toFixed(10);
}

const probabilityCache: string[] = ['<bad value>'];

function probability(n: number): string {
  while (probabilityCache.length <= n) probabilityCache.push(computeProbability(probabilityCache.length));
  return probabilityCache[n]!;
}

const q = (s: string): string => `"${s}"`;

const NO_ENDPOINTS: readonly EndpointInfo[] = [];

export function generateRuleset(cfg: RulesetConfig, input: SyncInput): SyncOutput {
  const filterChains: string[] = [];
  const filterRules: string[] = [];
  const natChains: string[] = [];
  const natRules: string[] = [];
  let skippedRuleCount = 0;
  const mark = cfg.masqueradeMark;

  for (const c of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL])
    filterChains.push(`:${c} - [0:0]`);
  for (const c of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) natChains.push(`:${c} - [0:0]`);

  natRules.push(`-A ${KUBE_POSTROUTING} -m mark ! --mark ${mark}/${mark} -j RETURN`);
  natRules.push(`-A ${KUBE_POSTROUTING} -j MARK --xor-mark ${mark}`);
  natRules.push(
    `-A ${KUBE_POSTROUTING} -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${cfg.randomFully ? ' --random-fully' : ''}`,
  );
  natRules.push(`-A ${KUBE_MARK_MASQ} -j MARK --or-mark ${mark}`);

  if (cfg.localhostNodePorts) {
    filterChains.push(`:${KUBE_FIREWALL} - [0:0]`);
    filterRules.push(
      `-A ${KUBE_FIREWALL} -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
    );
  }

  const active = new Set<string>();
  const services = [...input.services.values()].sort((a, b) =>
    a.nameString < b.nameString ? -1 : a.nameString > b.nameString ? 1 : a.protocol < b.protocol ? -1 : 1,
  );
  let totalEndpoints = 0;
  for (const s of services) totalEndpoints += input.endpoints.get(s.key)?.length ?? 0;
  const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
  const comment = (text: string): string => (largeClusterMode ? '' : ` -m comment --comment ${text}`);
  const nodeIP = cfg.nodeIP === null ? null : parseIpSloppy(cfg.nodeIP);
  let noLocalInternal = 0;
  let noLocalExternal = 0;

  for (const svc of services) {
    const eps = input.endpoints.get(svc.key) ?? NO_ENDPOINTS;
    const rewrite = input.fullSync || input.changed.has(svc.service);
    const hit = input.cache?.get(svc);
    if (
      !rewrite &&
      hit !== undefined &&
      hit.endpoints === eps &&
      hit.zone === cfg.zone &&
      hit.large === largeClusterMode
    ) {
      for (const l of hit.filter) filterRules.push(l);
      for (const l of hit.nat) natRules.push(l);
      for (const c of hit.active) active.add(c);
      skippedRuleCount += hit.chainRules;
      noLocalInternal += hit.noLocalInternal;
      noLocalExternal += hit.noLocalExternal;
      continue;
    }
    const f0 = filterRules.length;
    const n0 = natRules.length;
    const nli0 = noLocalInternal;
    const nle0 = noLocalExternal;
    const used: string[] = [];
    const use = (chain: string) => {
      active.add(chain);
      used.push(chain);
    };
    const remember = (chainRules: number, natEnd: number) =>
      input.cache?.set(svc, {
        endpoints: eps,
        zone: cfg.zone,
        large: largeClusterMode,
        filter: filterRules.slice(f0),
        nat: natRules.slice(n0, natEnd),
        chainRules,
        active: used,
        noLocalInternal: noLocalInternal - nli0,
        noLocalExternal: noLocalExternal - nle0,
      });
    const p = svc.proto;
    const name = svc.nameString;
    const cat = categorizeEndpoints(eps, svc, cfg.nodeName, cfg.zone);
    const { cluster: clusterChain, local: localChain, firewall: fwChain, external: extChain } = svc.chains;
    const usesClusterPolicyChain = cat.cluster.length > 0 && usesClusterEndpoints(svc);
    const usesLocalPolicyChain = cat.local.length > 0 && usesLocalEndpoints(svc);
    let internalChain = clusterChain;
    let hasInternal = cat.hasAny;
    if (svc.internalPolicyLocal) {
      internalChain = localChain;
      if (cat.local.length === 0) hasInternal = false;
    }
    let externalPolicyChain = clusterChain;
    let hasExternal = cat.hasAny;
    if (svc.externalPolicyLocal) {
      externalPolicyChain = localChain;
      if (cat.local.length === 0) hasExternal = false;
    }
    const usesExternalChain = cat.hasAny && externallyAccessible(svc);
    const usesFW = cat.hasAny && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
    const lbChain = usesFW ? fwChain : extChain;

    let internalTarget = '';
    let internalComment = '';
    let externalTarget = '';
    let externalComment = '';
    if (!cat.hasAny) {
      internalTarget = 'REJECT';
      internalComment = q(`${name} has no endpoints`);
      externalTarget = 'REJECT';
      externalComment = internalComment;
    } else {
      if (!hasInternal) {
        internalTarget = 'DROP';
        internalComment = q(`${name} has no local endpoints`);
        noLocalInternal++;
      }
      if (!hasExternal) {
        externalTarget = 'DROP';
        externalComment = q(`${name} has no local endpoints`);
        noLocalExternal++;
      }
    }
    const dport = `--dport ${svc.port}`;

    if (hasInternal) {
      natRules.push(
        `-A ${KUBE_SERVICES} -m comment --comment ${q(`${name} cluster IP`)} -m ${p} -p ${p} -d ${svc.clusterIP} ${dport} -j ${internalChain}`,
      );
    } else {
      filterRules.push(
        `-A ${KUBE_SERVICES} -m comment --comment ${internalComment} -m ${p} -p ${p} -d ${svc.clusterIP} ${dport} -j ${internalTarget}`,
      );
    }

    for (const eip of svc.externalIPs) {
      if (cat.hasAny)
        natRules.push(
          `-A ${KUBE_SERVICES} -m comment --comment ${q(`${name} external IP`)} -m ${p} -p ${p} -d ${eip} ${dport} -j ${extChain}`,
        );
      if (!hasExternal)
        filterRules.push(
          `-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalComment} -m ${p} -p ${p} -d ${eip} ${dport} -j ${externalTarget}`,
        );
    }

    for (const lbip of svc.loadBalancerVIPs) {
      if (cat.hasAny)
        natRules.push(
          `-A ${KUBE_SERVICES} -m comment --comment ${q(`${name} loadbalancer IP`)} -m ${p} -p ${p} -d ${lbip} ${dport} -j ${lbChain}`,
        );
      if (usesFW)
        filterRules.push(
          `-A ${KUBE_PROXY_FIREWALL} -m comment --comment ${q(`${name} traffic not accepted by ${fwChain}`)} -m ${p} -p ${p} -d ${lbip} ${dport} -j DROP`,
        );
    }
    if (!hasExternal)
      for (const lbip of svc.loadBalancerVIPs)
        filterRules.push(
          `-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalComment} -m ${p} -p ${p} -d ${lbip} ${dport} -j ${externalTarget}`,
        );

    if (svc.nodePort !== 0) {
      if (cat.hasAny) {
        if (cfg.localhostNodePorts && cfg.nfacct.localhostNodePortsAccepted)
          natRules.push(
            `-A ${KUBE_NODEPORTS} -m comment --comment ${name} -m ${p} -p ${p} -d 127.0.0.0/8 --dport ${svc.nodePort} -m nfacct --nfacct-name ${NFACCT_LOCALHOST_NODEPORTS_ACCEPTED} -j ${extChain}`,
          );
        natRules.push(
          `-A ${KUBE_NODEPORTS} -m comment --comment ${name} -m ${p} -p ${p} --dport ${svc.nodePort} -j ${extChain}`,
        );
      }
      if (!hasExternal)
        filterRules.push(
          `-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalComment} -m addrtype --dst-type LOCAL -m ${p} -p ${p} --dport ${svc.nodePort} -j ${externalTarget}`,
        );
    }

    if (svc.healthCheckNodePort !== 0)
      filterRules.push(
        `-A ${KUBE_NODEPORTS} -m comment --comment ${q(`${name} health check node port`)} -m tcp -p tcp --dport ${svc.healthCheckNodePort} -j ACCEPT`,
      );

    const natEnd = natRules.length;
    if (!rewrite) {
      // Unchanged since the last sync: its chains stay as they are in the kernel. Only the bookkeeping remains
      // (which chains are in use, how many rules they hold); upstream formats them into a discarded buffer.
      let n = 0;
      if (hasInternal && (cfg.masqueradeAll || cfg.localDetector !== null)) n++;
      if (usesExternalChain) {
        use(extChain);
        n += svc.externalPolicyLocal ? (cfg.localDetector !== null ? 3 : 2) : 1;
        if (hasExternal) n++;
      }
      if (usesFW) {
        use(fwChain);
        const fromNode =
          nodeIP !== null &&
          svc.loadBalancerSourceRanges.some((c) => {
            const net = parseCidrSloppy(c);
            return net !== null && netContains(net, nodeIP);
          });
        n += svc.loadBalancerSourceRanges.length + (fromNode ? svc.loadBalancerVIPs.length : 0) + 1;
      }
      const perEndpoint = svc.sessionAffinityClientIP ? 2 : 1;
      if (usesClusterPolicyChain) {
        use(clusterChain);
        n += cat.cluster.length * perEndpoint;
      }
      if (usesLocalPolicyChain) {
        use(localChain);
        n += cat.local.length * perEndpoint;
      }
      for (const ep of cat.allReachable) use(ep.chain);
      n += 2 * cat.allReachable.length;
      skippedRuleCount += n;
      remember(n, natEnd);
      continue;
    }
    const chains = natChains;
    const rules = natRules;

    if (hasInternal) {
      const args = `-m comment --comment ${q(`${name} cluster IP`)} -m ${p} -p ${p} -d ${svc.clusterIP} ${dport}`;
      if (cfg.masqueradeAll) rules.push(`-A ${internalChain} ${args} -j ${KUBE_MARK_MASQ}`);
      else if (cfg.localDetector !== null)
        rules.push(`-A ${internalChain} ${args} ${cfg.localDetector.ifNotLocal} -j ${KUBE_MARK_MASQ}`);
    }

    if (usesExternalChain) {
      chains.push(`:${extChain} - [0:0]`);
      use(extChain);
      if (!svc.externalPolicyLocal) {
        rules.push(
          `-A ${extChain} -m comment --comment ${q(`masquerade traffic for ${name} external destinations`)} -j ${KUBE_MARK_MASQ}`,
        );
      } else {
        if (cfg.localDetector !== null)
          rules.push(
            `-A ${extChain} -m comment --comment ${q(`pod traffic for ${name} external destinations`)} ${cfg.localDetector.ifLocal} -j ${clusterChain}`,
          );
        rules.push(
          `-A ${extChain} -m comment --comment ${q(`masquerade LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${KUBE_MARK_MASQ}`,
        );
        rules.push(
          `-A ${extChain} -m comment --comment ${q(`route LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${clusterChain}`,
        );
      }
      if (hasExternal) rules.push(`-A ${extChain} -j ${externalPolicyChain}`);
    }

    if (usesFW) {
      chains.push(`:${fwChain} - [0:0]`);
      use(fwChain);
      const args = `-A ${fwChain} -m comment --comment ${q(`${name} loadbalancer IP`)}`;
      let allowFromNode = false;
      for (const cidr of svc.loadBalancerSourceRanges) {
        rules.push(`${args} -s ${cidr} -j ${extChain}`);
        const n = parseCidrSloppy(cidr);
        if (n !== null && nodeIP !== null && netContains(n, nodeIP)) allowFromNode = true;
      }
      if (allowFromNode) for (const lbip of svc.loadBalancerVIPs) rules.push(`${args} -s ${lbip} -j ${extChain}`);
      rules.push(
        `-A ${fwChain} -m comment --comment ${q(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`)}`,
      );
    }

    if (usesClusterPolicyChain) {
      chains.push(`:${clusterChain} - [0:0]`);
      use(clusterChain);
      serviceToEndpointRules(rules, svc, clusterChain, cat.cluster, comment);
    }
    if (usesLocalPolicyChain) {
      chains.push(`:${localChain} - [0:0]`);
      use(localChain);
      serviceToEndpointRules(rules, svc, localChain, cat.local, comment);
    }

    for (const ep of cat.allReachable) {
      chains.push(`:${ep.chain} - [0:0]`);
      use(ep.chain);
      const head = `-A ${ep.chain}${comment(name)}`;
      rules.push(`${head} -s ${ep.ip} -j ${KUBE_MARK_MASQ}`);
      const affinity = svc.sessionAffinityClientIP ? ` -m recent --name ${ep.chain} --set` : '';
      rules.push(`${head}${affinity} -m ${p} -p ${p} -j DNAT --to-destination ${ep.endpoint}`);
    }
    remember(natRules.length - natEnd, natEnd);
  }

  const deletedChains: string[] = [];
  if (input.existingNatChains !== null) {
    for (const chain of input.existingNatChains) {
      if (active.has(chain) || !isServiceChainName(chain)) continue;
      natChains.push(`:${chain} - [0:0]`);
      natRules.push(`-X ${chain}`);
      deletedChains.push(chain);
    }
  }

  const lastComment = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
  if (cfg.nodePortAddresses.matchAll) {
    const dst = cfg.localhostNodePorts
      ? '-m addrtype --dst-type LOCAL'
      : '-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8';
    natRules.push(`-A ${KUBE_SERVICES} -m comment --comment ${lastComment} ${dst} -j ${KUBE_NODEPORTS}`);
  } else {
    for (const ip of input.nodePortIPs) {
      if (ip.startsWith('127.') && !cfg.localhostNodePorts) continue;
      natRules.push(`-A ${KUBE_SERVICES} -m comment --comment ${lastComment} -d ${ip} -j ${KUBE_NODEPORTS}`);
    }
  }

  if (!cfg.conntrackTCPLiberal) {
    const acct = cfg.nfacct.ctStateInvalidDropped ? ` -m nfacct --nfacct-name ${NFACCT_CT_STATE_INVALID_DROPPED}` : '';
    filterRules.push(`-A ${KUBE_FORWARD} -m conntrack --ctstate INVALID${acct} -j DROP`);
  }
  filterRules.push(
    `-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`,
  );
  filterRules.push(
    `-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );

  const payload = `*filter\n${lines(filterChains)}${lines(filterRules)}COMMIT\n*nat\n${lines(natChains)}${lines(natRules)}COMMIT\n`;
  return {
    payload,
    activeNatChains: active,
    largeClusterMode,
    totalEndpoints,
    filterRules: filterRules.length,
    natRules: natRules.length - deletedChains.length,
    skippedNatRules: skippedRuleCount,
    deletedChains,
    noLocalEndpointsInternal: noLocalInternal,
    noLocalEndpointsExternal: noLocalExternal,
  };
}

function lines(a: readonly string[]): string {
  return a.length === 0 ? '' : `${a.join('\n')}\n`;
}

function serviceToEndpointRules(
  rules: string[],
  svc: ServicePortInfo,
  chain: string,
  endpoints: readonly EndpointInfo[],
  comment: (text: string) => string,
): void {
  const name = svc.nameString;
  if (svc.sessionAffinityClientIP) {
    for (const ep of endpoints)
      rules.push(
        `-A ${chain}${comment(q(`${name} -> ${ep.endpoint}`))} -m recent --name ${ep.chain} --rcheck --seconds ${svc.stickyMaxAgeSeconds} --reap -j ${ep.chain}`,
      );
  }
  const n = endpoints.length;
  for (let i = 0; i < n; i++) {
    const ep = endpoints[i]!;
    const stat = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
    rules.push(`-A ${chain}${comment(q(`${name} -> ${ep.endpoint}`))}${stat} -j ${ep.chain}`);
  }
}
