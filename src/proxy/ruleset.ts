// The iptables-restore payload of one kube-proxy sync (pkg/proxy/iptables/proxier.go syncProxyRules, v1.35/v1.36),
// line for line: the filter table (KUBE-SERVICES/KUBE-EXTERNAL-SERVICES REJECT and DROP rules, KUBE-NODEPORTS health
// check ACCEPTs, KUBE-PROXY-FIREWALL drops, KUBE-FIREWALL's anti-martian rule, KUBE-FORWARD), then the nat table
// (KUBE-POSTROUTING, KUBE-MARK-MASQ, KUBE-SERVICES captures, KUBE-NODEPORTS, and per service port the EXT, FW, SVC,
// SVL and SEP chains with `-m statistic` spreading, `-m recent` affinity and DNAT). Top-level chains are always
// declared (so flushed and rewritten); on a partial sync the per-service chains of unchanged Services are left out
// and keep their rules in the kernel. Stale service chains are flushed and deleted (`-X`). Over 1000 endpoints
// ("large cluster mode") the per-endpoint comments are dropped. Services are written in name order (upstream's
// order follows a Go map, so any order is as faithful). With a cache (rulesetcache.ts), the lines of a Service that
// changed neither itself nor its endpoints since the last sync are repeated instead of recomputed, a group of such
// Services at a time, so a partial sync costs what changed plus copying the always-written top-level chains.

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
import { byName, type CachedService, type RulesetCache } from './rulesetcache.js';
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
  /**
   * nat chains present now (iptables-save -t nat), or null to skip stale chain deletion this time; or a function
   * deciding that once large-cluster mode is known.
   */
  existingNatChains: Iterable<string> | null | ((largeClusterMode: boolean) => Iterable<string> | null);
  /** Node addresses inside --nodeport-addresses (used when they are not "all"). */
  nodePortIPs: readonly string[];
  /** What earlier syncs wrote for each service port, reused while it and its endpoints are unchanged. */
  cache?: RulesetCache;
}

export interface SyncOutput {
  payload: string;
  /** nat chains the written rules use (built on first access). */
  readonly activeNatChains: Set<string>;
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

/** ` -m statistic --mode random --probability P` for 1/n, by n. */
const statisticCache: string[] = [''];

function statistic(n: number): string {
  while (statisticCache.length <= n)
    statisticCache.push(` -m statistic --mode random --probability ${computeProbability(statisticCache.length)}`);
  return statisticCache[n]!;
}

const q = (s: string): string => `"${s}"`;

const NO_ENDPOINTS: readonly EndpointInfo[] = [];
const NO_LINES: readonly string[] = [];

/**
 * The lines of one payload section, joined a chunk at a time (so 10^5 lines never sit in memory as separate
 * strings) or copied in as pre-joined blocks.
 */
const CHUNK_LINES = 2048;

class Section {
  count = 0;
  readonly pieces: string[] = [];
  private pending: string[] = [];

  push(line: string): void {
    this.pending.push(line);
    this.count++;
    if (this.pending.length === CHUNK_LINES) this.flush();
  }

  /** `lines` lines, each ending in a newline. */
  block(text: string, lines: number): void {
    if (lines === 0) return;
    this.flush();
    this.pieces.push(text);
    this.count += lines;
  }

  flush(): void {
    if (this.pending.length === 0) return;
    this.pending.push('');
    this.pieces.push(this.pending.join('\n'));
    this.pending = [];
  }
}

export function generateRuleset(cfg: RulesetConfig, input: SyncInput): SyncOutput {
  const filterChains = new Section();
  const filterRules = new Section();
  const natChains = new Section();
  const natRules = new Section();
  const mark = cfg.masqueradeMark;
  const cache = input.cache;

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

  let services: ServicePortInfo[] | null = null;
  let totalEndpoints = 0;
  let followed = false;
  if (cache === undefined) {
    services = [...input.services.values()].sort(byName);
    for (const s of services) totalEndpoints += input.endpoints.get(s.key)?.length ?? 0;
  } else {
    ({ followed, totalEndpoints } = cache.follow(input.services, input.endpoints, input.changed));
  }
  const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
  const w: Writer = {
    cfg,
    large: largeClusterMode,
    nodeIP: cfg.nodeIP === null ? null : parseIpSloppy(cfg.nodeIP),
    filterRules,
    natChains,
    natRules,
  };
  const tally: Tally = { skipped: 0, noLocalInternal: 0, noLocalExternal: 0 };
  /** The chains in use: per group (or one list for all), per service port. */
  const used: (readonly (readonly string[])[])[] = [];

  if (cache === undefined) {
    const all: (readonly string[])[] = [];
    for (const svc of services!) all.push(visit(w, input, svc, undefined, tally).active);
    used.push(all);
  } else {
    // Only groups holding something that changed are read service by service; the others repeat their lines.
    const partial =
      followed && !input.fullSync && cache.cfg === cfg && cache.zone === cfg.zone && cache.large === largeClusterMode;
    if (!partial) cache.recut();
    for (const g of cache.groups) {
      if (g.dirty) {
        for (let i = 0; i < g.members.length; i++) {
          const svc = g.members[i]!;
          const entry = visit(w, input, svc, g.entries[i], tally);
          if (entry !== g.entries[i]) cache.store(g, i, entry);
        }
        cache.seal(g);
      } else {
        filterRules.block(g.filterText, g.filterLines);
        natRules.block(g.natText, g.natLines);
        tally.skipped += g.chainRules;
        tally.noLocalInternal += g.noLocalInternal;
        tally.noLocalExternal += g.noLocalExternal;
      }
      used.push(g.active);
    }
    cache.cfg = cfg;
    cache.zone = cfg.zone;
    cache.large = largeClusterMode;
    cache.totalEndpoints = totalEndpoints;
  }

  const deletedChains: string[] = [];
  const existing =
    typeof input.existingNatChains === 'function' ? input.existingNatChains(largeClusterMode) : input.existingNatChains;
  if (existing !== null) {
    let active = cache?.active ?? null;
    for (const chain of existing) {
      if (!isServiceChainName(chain)) continue;
      active ??= cache !== undefined ? cache.buildActive() : union(used);
      if (active.has(chain)) continue;
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

  const parts = ['*filter\n'];
  for (const sec of [filterChains, filterRules, null, natChains, natRules]) {
    if (sec === null) {
      parts.push('COMMIT\n*nat\n');
      continue;
    }
    sec.flush();
    for (const c of sec.pieces) parts.push(c);
  }
  parts.push('COMMIT\n');
  let active: Set<string> | null = null;
  return {
    payload: parts.join(''),
    get activeNatChains(): Set<string> {
      active ??= union(used);
      return active;
    },
    largeClusterMode,
    totalEndpoints,
    filterRules: filterRules.count,
    natRules: natRules.count - deletedChains.length,
    skippedNatRules: tally.skipped,
    deletedChains,
    noLocalEndpointsInternal: tally.noLocalInternal,
    noLocalEndpointsExternal: tally.noLocalExternal,
  };
}

function union(groups: readonly (readonly (readonly string[])[])[]): Set<string> {
  const out = new Set<string>();
  for (const g of groups) for (const l of g) for (const c of l) out.add(c);
  return out;
}

interface Tally {
  /** nat rules in chains left out. */
  skipped: number;
  noLocalInternal: number;
  noLocalExternal: number;
}

/**
 * One service port: its lines repeated from the cache when neither it nor its endpoints changed (nor the zone or
 * large-cluster mode), else written anew (its own chains only when it is rewritten).
 */
function visit(
  w: Writer,
  input: SyncInput,
  svc: ServicePortInfo,
  cached: CachedService | undefined,
  tally: Tally,
): CachedService {
  const eps = input.endpoints.get(svc.key) ?? NO_ENDPOINTS;
  const rewrite = input.fullSync || input.changed.has(svc.service);
  let entry = cached;
  if (
    rewrite ||
    entry === undefined ||
    entry.endpoints !== eps ||
    entry.zone !== w.cfg.zone ||
    entry.large !== w.large
  ) {
    entry = writeService(w, svc, eps, rewrite);
  } else {
    for (const l of entry.filter) w.filterRules.push(l);
    for (const l of entry.nat) w.natRules.push(l);
  }
  if (!rewrite) tally.skipped += entry.chainRules;
  tally.noLocalInternal += entry.noLocalInternal;
  tally.noLocalExternal += entry.noLocalExternal;
  return entry;
}

interface Writer {
  cfg: RulesetConfig;
  large: boolean;
  nodeIP: number | null;
  filterRules: Section;
  natChains: Section;
  natRules: Section;
}

/**
 * One service port's lines: filter rules and its KUBE-SERVICES/KUBE-NODEPORTS rules always, its own chains only
 * when `rewrite` (otherwise they stay as they are in the kernel, and only the bookkeeping remains: which chains
 * are in use and how many rules they hold, as upstream formats them into a discarded buffer).
 */
function writeService(w: Writer, svc: ServicePortInfo, eps: readonly EndpointInfo[], rewrite: boolean): CachedService {
  const { cfg, large } = w;
  const filter: string[] = [];
  const nat: string[] = [];
  let noLocalInternal = 0;
  let noLocalExternal = 0;
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
    nat.push(
      `-A ${KUBE_SERVICES} -m comment --comment ${q(`${name} cluster IP`)} -m ${p} -p ${p} -d ${svc.clusterIP} ${dport} -j ${internalChain}`,
    );
  } else {
    filter.push(
      `-A ${KUBE_SERVICES} -m comment --comment ${internalComment} -m ${p} -p ${p} -d ${svc.clusterIP} ${dport} -j ${internalTarget}`,
    );
  }

  for (const eip of svc.externalIPs) {
    if (cat.hasAny)
      nat.push(
        `-A ${KUBE_SERVICES} -m comment --comment ${q(`${name} external IP`)} -m ${p} -p ${p} -d ${eip} ${dport} -j ${extChain}`,
      );
    if (!hasExternal)
      filter.push(
        `-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalComment} -m ${p} -p ${p} -d ${eip} ${dport} -j ${externalTarget}`,
      );
  }

  for (const lbip of svc.loadBalancerVIPs) {
    if (cat.hasAny)
      nat.push(
        `-A ${KUBE_SERVICES} -m comment --comment ${q(`${name} loadbalancer IP`)} -m ${p} -p ${p} -d ${lbip} ${dport} -j ${lbChain}`,
      );
    if (usesFW)
      filter.push(
        `-A ${KUBE_PROXY_FIREWALL} -m comment --comment ${q(`${name} traffic not accepted by ${fwChain}`)} -m ${p} -p ${p} -d ${lbip} ${dport} -j DROP`,
      );
  }
  if (!hasExternal)
    for (const lbip of svc.loadBalancerVIPs)
      filter.push(
        `-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalComment} -m ${p} -p ${p} -d ${lbip} ${dport} -j ${externalTarget}`,
      );

  if (svc.nodePort !== 0) {
    if (cat.hasAny) {
      if (cfg.localhostNodePorts && cfg.nfacct.localhostNodePortsAccepted)
        nat.push(
          `-A ${KUBE_NODEPORTS} -m comment --comment ${name} -m ${p} -p ${p} -d 127.0.0.0/8 --dport ${svc.nodePort} -m nfacct --nfacct-name ${NFACCT_LOCALHOST_NODEPORTS_ACCEPTED} -j ${extChain}`,
        );
      nat.push(
        `-A ${KUBE_NODEPORTS} -m comment --comment ${name} -m ${p} -p ${p} --dport ${svc.nodePort} -j ${extChain}`,
      );
    }
    if (!hasExternal)
      filter.push(
        `-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalComment} -m addrtype --dst-type LOCAL -m ${p} -p ${p} --dport ${svc.nodePort} -j ${externalTarget}`,
      );
  }

  if (svc.healthCheckNodePort !== 0)
    filter.push(
      `-A ${KUBE_NODEPORTS} -m comment --comment ${q(`${name} health check node port`)} -m tcp -p tcp --dport ${svc.healthCheckNodePort} -j ACCEPT`,
    );

  for (const l of filter) w.filterRules.push(l);
  for (const l of nat) w.natRules.push(l);

  const active: string[] = [];
  const entry = (chainRules: number): CachedService => ({
    endpoints: eps,
    zone: cfg.zone,
    large,
    filter: filter.length === 0 ? NO_LINES : filter,
    nat: nat.length === 0 ? NO_LINES : nat,
    chainRules,
    active,
    noLocalInternal,
    noLocalExternal,
  });

  if (!rewrite) {
    let n = 0;
    if (hasInternal && (cfg.masqueradeAll || cfg.localDetector !== null)) n++;
    if (usesExternalChain) {
      active.push(extChain);
      n += svc.externalPolicyLocal ? (cfg.localDetector !== null ? 3 : 2) : 1;
      if (hasExternal) n++;
    }
    if (usesFW) {
      active.push(fwChain);
      const nodeIP = w.nodeIP;
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
      active.push(clusterChain);
      n += cat.cluster.length * perEndpoint;
    }
    if (usesLocalPolicyChain) {
      active.push(localChain);
      n += cat.local.length * perEndpoint;
    }
    for (const ep of cat.allReachable) active.push(ep.chain);
    n += 2 * cat.allReachable.length;
    return entry(n);
  }

  const chains = w.natChains;
  const rules = w.natRules;
  const rules0 = rules.count;

  if (hasInternal) {
    const args = `-m comment --comment ${q(`${name} cluster IP`)} -m ${p} -p ${p} -d ${svc.clusterIP} ${dport}`;
    if (cfg.masqueradeAll) rules.push(`-A ${internalChain} ${args} -j ${KUBE_MARK_MASQ}`);
    else if (cfg.localDetector !== null)
      rules.push(`-A ${internalChain} ${args} ${cfg.localDetector.ifNotLocal} -j ${KUBE_MARK_MASQ}`);
  }

  if (usesExternalChain) {
    chains.push(`:${extChain} - [0:0]`);
    active.push(extChain);
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
    active.push(fwChain);
    const args = `-A ${fwChain} -m comment --comment ${q(`${name} loadbalancer IP`)}`;
    let allowFromNode = false;
    const nodeIP = w.nodeIP;
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
    active.push(clusterChain);
    serviceToEndpointRules(rules, svc, clusterChain, cat.cluster, large);
  }
  if (usesLocalPolicyChain) {
    chains.push(`:${localChain} - [0:0]`);
    active.push(localChain);
    serviceToEndpointRules(rules, svc, localChain, cat.local, large);
  }

  const sepComment = large ? '' : ` -m comment --comment ${name}`;
  const dnat = ` -m ${p} -p ${p} -j DNAT --to-destination `;
  for (const ep of cat.allReachable) {
    const sep = ep.chain;
    chains.push(`:${sep} - [0:0]`);
    active.push(sep);
    rules.push(`-A ${sep}${sepComment} -s ${ep.ip} -j ${KUBE_MARK_MASQ}`);
    if (svc.sessionAffinityClientIP)
      rules.push(`-A ${sep}${sepComment} -m recent --name ${sep} --set${dnat}${ep.endpoint}`);
    else rules.push(`-A ${sep}${sepComment}${dnat}${ep.endpoint}`);
  }
  return entry(rules.count - rules0);
}

function serviceToEndpointRules(
  rules: Section,
  svc: ServicePortInfo,
  chain: string,
  endpoints: readonly EndpointInfo[],
  large: boolean,
): void {
  const name = svc.nameString;
  const head = `-A ${chain}`;
  if (svc.sessionAffinityClientIP) {
    const seconds = ` --rcheck --seconds ${svc.stickyMaxAgeSeconds} --reap -j `;
    for (const ep of endpoints) {
      const comment = large ? '' : ` -m comment --comment ${q(`${name} -> ${ep.endpoint}`)}`;
      rules.push(`${head}${comment} -m recent --name ${ep.chain}${seconds}${ep.chain}`);
    }
  }
  const n = endpoints.length;
  for (let i = 0; i < n; i++) {
    const ep = endpoints[i]!;
    const comment = large ? '' : ` -m comment --comment ${q(`${name} -> ${ep.endpoint}`)}`;
    rules.push(`${head}${comment}${i < n - 1 ? statistic(n - i) : ''} -j ${ep.chain}`);
  }
}
