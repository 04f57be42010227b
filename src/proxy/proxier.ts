// kube-proxy in iptables mode for one node (pkg/proxy/iptables/proxier.go, kubernetes v1.35/v1.36): Service and
// EndpointSlice events feed the change trackers; `syncProxyRules` turns the current state into one
// `iptables-restore --noflush --counters` payload (see ruleset.ts) and loads it into the node's namespace. A full
// sync first ensures the monitor's canary chains and the jump rules in the built-in chains with single iptables
// commands, and the nfacct counters; later syncs are partial (only changed Services' chains are rewritten) until
// something forces a full one: a topology change, a failed restore, a missing canary (someone flushed iptables),
// or an hour since the last full sync. Stale KUBE-SVC/SEP/… chains found in `iptables-save -t nat` are deleted,
// in large clusters at most once per syncPeriod. After a successful sync, stale UDP conntrack entries are cleared.
// Time is the node's virtual clock. Without a namespace the proxier only generates payloads and tracks the nat
// chains it would have created. Limits: IPv4 only; no healthz/metrics servers; no sync rate limiting (callers
// decide when to sync, as BoundedFrequencyRunner would).

import { iptablesRestore, netfilterOf } from '../iptables/index.js';
import { nfacctStore } from '../iptables/matches/nfacct.js';
import type { NetNs } from '../netns/netns.js';
import {
  EndpointsChangeTracker,
  type EndpointsMap,
  ServiceChangeTracker,
  type ServicePortMap,
} from './changetracker.js';
import { cleanStaleEntries } from './conntrack.js';
import type { EndpointInfo } from './endpoint.js';
import { parseIpSloppy } from './ip.js';
import { canaryMissing, type EnsureLog, ensureCanaries, ensureJumps } from './jumps.js';
import { LoggedMap } from './loggedmap.js';
import { type EndpointSlice, LABEL_TOPOLOGY_ZONE, type Service } from './model.js';
import { type LocalDetectorSpec, localDetector, NodePortAddresses } from './netconfig.js';
import {
  generateRuleset,
  NFACCT_CT_STATE_INVALID_DROPPED,
  NFACCT_LOCALHOST_NODEPORTS_ACCEPTED,
  type RulesetConfig,
  type SyncOutput,
} from './ruleset.js';
import { RulesetCache } from './rulesetcache.js';
import type { ServicePortInfo } from './serviceport.js';

/** Full resync at least this often (proxyutil.FullSyncPeriod). */
export const FULL_SYNC_PERIOD_NS = 3600e9;

export interface ProxierOptions {
  /** This node's name (endpoints with this nodeName are local). */
  nodeName: string;
  /** Node IPs, primary first (the primary one is allowed through loadBalancerSourceRanges containing it). */
  nodeIPs?: readonly string[];
  /** --cluster-cidr: the ClusterCIDR local-traffic detector. */
  clusterCIDR?: string;
  /** Another detector (BridgeInterface, InterfaceNamePrefix); wins over clusterCIDR. */
  localDetector?: LocalDetectorSpec;
  masqueradeAll?: boolean;
  /** --iptables-masquerade-bit (default 14: mark 0x4000). */
  masqueradeBit?: number;
  /** The mark text as written in rules; default `%#08x` of 1 << masqueradeBit, as kube-proxy formats it. */
  masqueradeMark?: string;
  /** --nodeport-addresses. */
  nodePortAddresses?: readonly string[];
  /** --iptables-localhost-nodeports (default true; off when --nodeport-addresses excludes 127.0.0.0/8). */
  localhostNodePorts?: boolean;
  /** net.netfilter.nf_conntrack_tcp_be_liberal is set: no INVALID drop rule. */
  conntrackTCPLiberal?: boolean;
  /** iptables supports MASQUERADE --random-fully (any iptables since 1.6.2). Default true. */
  randomFully?: boolean;
  /** kube-proxy could create its nfacct counters (default true). */
  nfacct?: boolean;
  /** --iptables-sync-period in seconds (default 30): stale-chain cleanup cadence in large clusters. */
  syncPeriodSeconds?: number;
  /** The node's labels kube-proxy watches for topology (topology.kubernetes.io/zone). */
  topologyLabels?: Record<string, string>;
  /** Local addresses for --nodeport-addresses when there is no namespace to read them from. */
  interfaceAddrs?: readonly string[];
  /** The iptables monitor's canary chains (default true). */
  monitor?: boolean;
  /** The node's network namespace; without one the proxier only generates payloads. */
  ns?: NetNs;
  /** Clock in virtual ns when there is no namespace. */
  now?: () => number;
}

export interface SyncResult extends SyncOutput {
  fullSync: boolean;
  /** iptables commands run before the restore (ensure chains/rules), as argument vectors without `iptables`. */
  ensured: string[][];
  /** The restore failed; a full sync follows next time. */
  error: Error | null;
  conntrackFilters: string[];
  conntrackDeleted: number;
}

/** `%#08x` as Go prints it: 0x and eight hex digits. */
export function formatMark(bit: number): string {
  return `0x${((1 << bit) >>> 0).toString(16).padStart(8, '0')}`;
}

export class Proxier {
  // Logged, so the ruleset cache learns which service ports changed without comparing them all.
  readonly services: ServicePortMap = new LoggedMap<ServicePortInfo>();
  readonly endpoints: EndpointsMap = new LoggedMap<EndpointInfo[]>();
  private readonly serviceChanges = new ServiceChangeTracker();
  private readonly endpointsChanges: EndpointsChangeTracker;
  private readonly cfg: RulesetConfig;
  private readonly opts: ProxierOptions;
  private topologyLabels: Record<string, string>;
  private needFullSync = true;
  private lastFullSync = Number.NEGATIVE_INFINITY;
  private lastCleanup = Number.NEGATIVE_INFINITY;
  private pendingChanged = new Set<string>();
  private pendingConntrack = false;
  /** nat chains created so far, when there is no namespace to ask. */
  private readonly natChainsModel = new Set<string>();
  /** The last payload written. */
  lastPayload = '';
  private readonly rulesetCache = new RulesetCache();

  constructor(opts: ProxierOptions) {
    this.opts = opts;
    const npa = new NodePortAddresses(opts.nodePortAddresses ?? []);
    const localhost = (opts.localhostNodePorts ?? true) && npa.containsIPv4Loopback;
    const detector =
      opts.localDetector ?? (opts.clusterCIDR ? { mode: 'ClusterCIDR' as const, cidr: opts.clusterCIDR } : null);
    const nfacct = opts.nfacct ?? true;
    this.topologyLabels = { ...(opts.topologyLabels ?? {}) };
    this.endpointsChanges = new EndpointsChangeTracker(opts.nodeName);
    this.cfg = {
      nodeName: opts.nodeName,
      nodeIP: opts.nodeIPs?.[0] ?? null,
      masqueradeMark: opts.masqueradeMark ?? formatMark(opts.masqueradeBit ?? 14),
      masqueradeAll: opts.masqueradeAll ?? false,
      localDetector: localDetector(detector),
      localhostNodePorts: localhost,
      conntrackTCPLiberal: opts.conntrackTCPLiberal ?? false,
      randomFully: opts.randomFully ?? true,
      nfacct: { ctStateInvalidDropped: nfacct, localhostNodePortsAccepted: nfacct },
      nodePortAddresses: npa,
      zone: this.topologyLabels[LABEL_TOPOLOGY_ZONE] ?? '',
    };
    if (opts.ns && localhost) opts.ns.sysctl.set('net.ipv4.conf.all.route_localnet', '1');
  }

  /** The configuration rules are generated with (after kube-proxy's own adjustments). */
  get config(): Readonly<RulesetConfig> {
    return this.cfg;
  }

  private now(): number {
    if (this.opts.now) return this.opts.now();
    return this.opts.ns ? this.opts.ns.kernel.now : 0;
  }

  onServiceAdd(svc: Service): boolean {
    return this.serviceChanges.update(null, svc);
  }

  onServiceUpdate(previous: Service, svc: Service): boolean {
    return this.serviceChanges.update(previous, svc);
  }

  onServiceDelete(svc: Service): boolean {
    return this.serviceChanges.update(svc, null);
  }

  onEndpointSliceAdd(slice: EndpointSlice): boolean {
    return this.endpointsChanges.endpointSliceUpdate(slice, false);
  }

  onEndpointSliceUpdate(_previous: EndpointSlice, slice: EndpointSlice): boolean {
    return this.endpointsChanges.endpointSliceUpdate(slice, false);
  }

  onEndpointSliceDelete(slice: EndpointSlice): boolean {
    return this.endpointsChanges.endpointSliceUpdate(slice, true);
  }

  /** The node's topology labels changed: every Service may pick other endpoints, so the next sync is full. */
  onTopologyChange(labels: Record<string, string>): void {
    this.topologyLabels = { ...labels };
    this.cfg.zone = labels[LABEL_TOPOLOGY_ZONE] ?? '';
    this.needFullSync = true;
  }

  /** What the iptables monitor does when a canary disappears. */
  forceFullSync(): void {
    this.needFullSync = true;
  }

  private existingNatChains(): Iterable<string> {
    const ns = this.opts.ns;
    if (ns) return [...netfilterOf(ns).state.table('nat').chains.keys()];
    return [...this.natChainsModel];
  }

  private interfaceAddrs(): number[] {
    if (this.opts.interfaceAddrs)
      return this.opts.interfaceAddrs.map((a) => parseIpSloppy(a)).filter((a): a is number => a !== null);
    const ns = this.opts.ns;
    return ns ? ns.addrs.map((a) => a.addr) : [];
  }

  /** One run of syncProxyRules. */
  syncProxyRules(): SyncResult {
    const ns = this.opts.ns;
    const now = this.now();
    if (ns && this.opts.monitor !== false && this.lastFullSync !== Number.NEGATIVE_INFINITY && canaryMissing(ns))
      this.needFullSync = true;
    const fullSync = this.needFullSync || now - this.lastFullSync > FULL_SYNC_PERIOD_NS;
    for (const s of this.serviceChanges.apply(this.services)) this.pendingChanged.add(s);
    const ep = this.endpointsChanges.apply(this.endpoints);
    for (const s of ep.updated) this.pendingChanged.add(s);
    this.pendingConntrack ||= ep.conntrackCleanupRequired;
    const ensure: EnsureLog = { commands: [] };
    if (fullSync && ns) {
      if (this.opts.monitor !== false) ensureCanaries(ns, ensure);
      ensureJumps(ns, ensure);
      if (this.opts.nfacct ?? true) {
        const store = nfacctStore(ns);
        for (const name of [NFACCT_CT_STATE_INVALID_DROPPED, NFACCT_LOCALHOST_NODEPORTS_ACCEPTED])
          if (!store.objects.has(name)) store.add(name);
      }
    }
    // In large-cluster mode stale chains are looked for at most once per sync period.
    let cleanupDue = false;
    const out = generateRuleset(this.cfg, {
      services: this.services,
      endpoints: this.endpoints,
      fullSync,
      changed: this.pendingChanged,
      existingNatChains: (large) => {
        cleanupDue = !large || now - this.lastCleanup > (this.opts.syncPeriodSeconds ?? 30) * 1e9;
        return cleanupDue ? this.existingNatChains() : null;
      },
      nodePortIPs: this.cfg.nodePortAddresses.matchAll ? [] : this.cfg.nodePortAddresses.nodeIPs(this.interfaceAddrs()),
      cache: this.rulesetCache,
    });
    if (cleanupDue) this.lastCleanup = now;
    this.lastPayload = out.payload;
    let error: Error | null = null;
    try {
      if (ns) iptablesRestore(ns, out.payload, { noflush: true, counters: true, file: '<kube-proxy>' });
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      error = e;
    }
    // Not a spread: that would build `activeNatChains`, which the output computes only when asked for.
    const result: SyncResult = Object.assign(out, {
      fullSync,
      ensured: ensure.commands,
      error,
      conntrackFilters: [] as string[],
      conntrackDeleted: 0,
    });
    if (error !== null) {
      // The checked-out changes are gone; only a full sync can rebuild everything.
      this.needFullSync = true;
      return result;
    }
    this.needFullSync = false;
    if (fullSync) this.lastFullSync = now;
    this.pendingChanged = new Set();
    if (!ns) this.trackModel(out);
    if (ns && this.pendingConntrack) {
      const c = cleanStaleEntries(ns, this.services, this.endpoints);
      result.conntrackFilters = c.filters;
      result.conntrackDeleted = c.deleted;
    }
    this.pendingConntrack = false;
    return result;
  }

  /** Records the chains the payload declares (its `:CHAIN` lines), found without splitting it into lines. */
  private trackModel(out: SyncOutput): void {
    const p = out.payload;
    for (let i = p.indexOf('\n:'); i !== -1; i = p.indexOf('\n:', i + 1)) {
      let end = p.indexOf('\n', i + 1);
      if (end === -1) end = p.length;
      const space = p.indexOf(' ', i + 2);
      this.natChainsModel.add(p.slice(i + 2, space !== -1 && space < end ? space : end - 1));
    }
    for (const c of out.deletedChains) this.natChainsModel.delete(c);
  }
}
