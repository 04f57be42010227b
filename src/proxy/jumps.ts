// The rules kube-proxy keeps in the built-in chains (pkg/proxy/iptables/proxier.go iptablesJumpChains and the
// kubelet-compatible KUBE-FIREWALL jumps, v1.35/v1.36), and the canary chains of its iptables monitor. They are not
// part of the restore payload, because kube-proxy must not replace other software's rules in PREROUTING, INPUT,
// …: on a full sync it "ensures" each one with single iptables commands — `-N` for a missing chain, then `-C` and,
// if the rule is absent, `-I` at the top — so the last one listed ends up first in its chain, as on a real node.

import { IptablesError, iptables, netfilterOf } from '../iptables/index.js';
import type { TableName } from '../iptables/types.js';
import type { NetNs } from '../netns/netns.js';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_CANARY,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './chains.js';

export interface JumpRule {
  table: TableName;
  from: string;
  to: string;
  /** Words before `-m comment` (a conntrack state match). */
  extra: readonly string[];
  /** '' for no comment. */
  comment: string;
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

export const JUMP_RULES: readonly JumpRule[] = [
  {
    table: 'filter',
    to: KUBE_EXTERNAL_SERVICES,
    from: 'INPUT',
    comment: 'kubernetes externally-visible service portals',
    extra: NEW,
  },
  {
    table: 'filter',
    to: KUBE_EXTERNAL_SERVICES,
    from: 'FORWARD',
    comment: 'kubernetes externally-visible service portals',
    extra: NEW,
  },
  { table: 'filter', to: KUBE_NODEPORTS, from: 'INPUT', comment: 'kubernetes health check service ports', extra: [] },
  { table: 'filter', to: KUBE_SERVICES, from: 'FORWARD', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', to: KUBE_SERVICES, from: 'OUTPUT', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', to: KUBE_FORWARD, from: 'FORWARD', comment: 'kubernetes forwarding rules', extra: [] },
  { table: 'filter', to: KUBE_PROXY_FIREWALL, from: 'INPUT', comment: 'kubernetes load balancer firewall', extra: NEW },
  {
    table: 'filter',
    to: KUBE_PROXY_FIREWALL,
    from: 'OUTPUT',
    comment: 'kubernetes load balancer firewall',
    extra: NEW,
  },
  {
    table: 'filter',
    to: KUBE_PROXY_FIREWALL,
    from: 'FORWARD',
    comment: 'kubernetes load balancer firewall',
    extra: NEW,
  },
  { table: 'nat', to: KUBE_SERVICES, from: 'OUTPUT', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', to: KUBE_SERVICES, from: 'PREROUTING', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', to: KUBE_POSTROUTING, from: 'POSTROUTING', comment: 'kubernetes postrouting rules', extra: [] },
  { table: 'filter', to: KUBE_FIREWALL, from: 'INPUT', comment: '', extra: [] },
  { table: 'filter', to: KUBE_FIREWALL, from: 'OUTPUT', comment: '', extra: [] },
];

/** The tables the iptables monitor plants its canary chain in, in its order. */
export const CANARY_TABLES: readonly TableName[] = ['mangle', 'nat', 'filter'];

/** The iptables commands (argument vectors without `iptables`) one ensure pass ran. */
export interface EnsureLog {
  commands: string[][];
}

/** EnsureChain: `iptables -t T -N CHAIN` unless it exists. */
export function ensureChain(ns: NetNs, table: TableName, chain: string, log?: EnsureLog): void {
  if (netfilterOf(ns).state.table(table).chains.has(chain)) return;
  const words = ['-t', table, '-N', chain];
  iptables(ns, words);
  log?.commands.push(words);
}

function ruleWords(j: JumpRule): string[] {
  const w = [...j.extra];
  if (j.comment !== '') w.push('-m', 'comment', '--comment', j.comment);
  w.push('-j', j.to);
  return w;
}

/** EnsureRule(Prepend): `-C`, and `-I` when the check fails. */
export function ensureRule(ns: NetNs, j: JumpRule, log?: EnsureLog): void {
  const args = ruleWords(j);
  try {
    iptables(ns, ['-t', j.table, '-C', j.from, ...args]);
    return;
  } catch (e) {
    if (!(e instanceof IptablesError)) throw e;
  }
  const words = ['-t', j.table, '-I', j.from, ...args];
  iptables(ns, words);
  log?.commands.push(words);
}

/** What a full sync does before its restore: every jump chain and rule, in upstream's order. */
export function ensureJumps(ns: NetNs, log?: EnsureLog): void {
  for (const j of JUMP_RULES) {
    ensureChain(ns, j.table, j.to, log);
    ensureRule(ns, j, log);
  }
}

/** The monitor's canary chains (a flush of the table deletes them, telling kube-proxy to resync). */
export function ensureCanaries(ns: NetNs, log?: EnsureLog): void {
  for (const t of CANARY_TABLES) ensureChain(ns, t, KUBE_PROXY_CANARY, log);
}

/** True when a canary is gone (someone flushed a table), the monitor's cue for a full resync. */
export function canaryMissing(ns: NetNs): boolean {
  const st = netfilterOf(ns).state;
  return CANARY_TABLES.some((t) => !st.table(t).chains.has(KUBE_PROXY_CANARY));
}
