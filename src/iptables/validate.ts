// The checks the kernel makes before it accepts a table (ip_tables' translate_table and mark_source_chains, and
// nf_tables' chain validation): every jump or goto names an existing chain; no chain reachable from a built-in chain
// can reach itself again (a loop is refused, an unreachable one is left alone, as in the kernel); every target and
// match is allowed in the table and in every hook its chain is reached from (xt_check_target/xt_check_match, e.g.
// DNAT only from PREROUTING/OUTPUT, REJECT only in filter); nfacct objects exist. Messages follow iptables and add
// the kernel's log line, since the emulator has no dmesg. Each chain is summarised once (its jump targets, the hooks
// its targets and matches allow, its nfacct names) and the summary is kept while the chain object is unchanged —
// commits are copy-on-write, so a commit that rewrites a few chains of kube-proxy's hundred-thousand-chain nat
// table re-reads only those. Such a small commit is also checked incrementally from the last table that passed
// (reach and loops recomputed only below the chains whose jumps changed), with the same verdict and message as a
// full check, which runs whenever the change is large or anything is refused (test/iptables/validate-incremental).
// The full check numbers the chains and walks the jump graph as arrays. A chain written again with the same rules
// (kube-proxy's KUBE-SERVICES on every partial sync) is given the summary of the one it replaces (carrySummary).

import type { NfHook } from '../netns/hooks.js';
import { IptablesError } from './errors.js';
import { jumpToOf, LazyRule } from './lazy-rule.js';
import type { NfacctStore } from './matches/nfacct.js';
import { NfacctMatch } from './matches/nfacct.js';
import { targetPosOf } from './rule-spec.js';
import { BUILTIN_CHAINS, type Chain, type Rule, type RuleFacts, type SrcPos, type TableName } from './types.js';

export interface ValidateOptions {
  nfacct?: NfacctStore | undefined;
  /** The table comes from iptables-restore: errors say `iptables-restore: line N failed` (N the rule's line). */
  restore?: boolean;
  /** The line to name when the offending rule has no position (the COMMIT line). */
  line?: number;
}

const HOOK_ORDER: readonly NfHook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

function hookList(hooks: Iterable<NfHook>): string {
  const set = new Set(hooks);
  return HOOK_ORDER.filter((h) => set.has(h)).join('/');
}

function fail(message: string, pos: SrcPos | undefined, opts: ValidateOptions): never {
  const text = opts.restore
    ? `iptables-restore: line ${pos?.line ?? opts.line ?? 0} failed: ${message.replace(/^iptables: /, '')}`
    : message;
  throw new IptablesError(text, pos);
}

function rulePos(r: Rule): SrcPos | undefined {
  return targetPosOf(r) ?? r.pos;
}

const HOOK_BIT: Record<NfHook, number> = { PREROUTING: 1, INPUT: 2, FORWARD: 4, OUTPUT: 8, POSTROUTING: 16 };

function bitsOf(hooks: readonly NfHook[]): number {
  let b = 0;
  for (const h of hooks) b |= HOOK_BIT[h];
  return b;
}

function hooksOf(bits: number): NfHook[] {
  return HOOK_ORDER.filter((h) => (bits & HOOK_BIT[h]) !== 0);
}

const ALL_HOOKS = 31;

/** What validation needs of one chain, computed once per chain object (and kept on it). */
export interface ChainSummary {
  readonly table: TableName;
  readonly rules: readonly Rule[];
  readonly len: number;
  /** Jump/goto targets in order of first use. */
  readonly jumps: readonly string[];
  /** Hooks every target and match of the chain allows (ALL_HOOKS when none is restricted). */
  readonly allowed: number;
  /** A target refuses this table. */
  readonly badTable: boolean;
  readonly nfacct: readonly string[];
  /**
   * A rule needs connection tracking (a NAT target, a conntrack/state/connmark match, …): the kernel turns it on
   * for the namespace when such a rule is loaded (nf_ct_netns_get in the extension's checkentry).
   */
  readonly conntrack: boolean;
}

/** Extensions that need connection tracking. */
const CONNTRACK_MATCHES: ReadonlySet<string> = new Set(['conntrack', 'state', 'connmark']);
const CONNTRACK_TARGETS: ReadonlySet<string> = new Set([
  'DNAT',
  'SNAT',
  'MASQUERADE',
  'REDIRECT',
  'CONNMARK',
  'NOTRACK',
  'CT',
]);

const NONE: string[] = [];

/** The summary of a chain of `table`, made if the chain has none for its rules. */
export function chainSummary(c: Chain, table: TableName): ChainSummary {
  return summarise(c, table);
}

/**
 * Gives `to`, whose rules do what the rules of `from` do one for one (kube-proxy rewrites KUBE-SERVICES unchanged on
 * every sync), the summary of `from` instead of one made again.
 */
export function carrySummary(from: Chain, to: Chain): void {
  const s = from.summary;
  if (s === undefined || s.rules !== from.rules || s.len !== from.rules.length) return;
  to.summary = { ...s, rules: to.rules, len: to.rules.length };
}

/**
 * The one-jump list of the last chain summarised with one jump, when it names the same chain: kube-proxy's hundred
 * thousand KUBE-SEP chains each jump only to KUBE-MARK-MASQ and share one list (lists are never changed).
 */
let lastSingle: readonly string[] = [];

function singleJump(to: string): readonly string[] {
  if (lastSingle[0] !== to) lastSingle = [to];
  return lastSingle;
}

function summarise(c: Chain, table: TableName): ChainSummary {
  const hit = c.summary;
  if (hit !== undefined && hit.rules === c.rules && hit.len === c.rules.length && hit.table === table) return hit;
  // The first jump is kept apart and a list made only for a second one (a hundred thousand KUBE-SEP chains jump to
  // one chain only). Short lists are searched; a long one (KUBE-SERVICES) gets a set.
  let first: string | undefined;
  let jumps: string[] | null = null;
  let seen: Set<string> | null = null;
  let nfacct: string[] = NONE;
  let mask = ALL_HOOKS;
  let badTable = false;
  let conntrack = false;
  const rules = c.rules;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    const to = jumpToOf(r);
    if (to !== undefined && to !== first) {
      if (first === undefined) first = to;
      else if (jumps === null) jumps = [first, to];
      else {
        if (seen === null && jumps.length >= 16) seen = new Set(jumps);
        if (seen === null ? !jumps.includes(to) : !seen.has(to)) {
          seen?.add(to);
          jumps.push(to);
        }
      }
    }
    if (r instanceof LazyRule && !r.built) {
      // A rule not built yet carries what is needed here.
      const k = r.kind;
      if (k.conntrack) conntrack = true;
      if (k.tables && !k.tables.includes(table)) badTable = true;
      mask &= k.hooks;
      if (k.nfacct.length !== 0) nfacct = nfacct === NONE ? [...k.nfacct] : [...nfacct, ...k.nfacct];
      continue;
    }
    const t = r.target;
    if (t !== null) {
      if (CONNTRACK_TARGETS.has(t.name)) conntrack = true;
      if (t.tables && !t.tables.includes(table)) badTable = true;
      if (t.hooks) mask &= allowed(t.hooks);
    }
    for (const m of r.matches) {
      if (m.hooks) mask &= allowed(m.hooks);
      if (m instanceof NfacctMatch) {
        if (nfacct === NONE) nfacct = [];
        nfacct.push(m.acct);
      }
      if (CONNTRACK_MATCHES.has(m.name)) conntrack = true;
    }
  }
  // Pushed arrays keep room to grow; a hundred thousand short summaries keep only what they hold.
  const kept = first === undefined ? NONE : jumps === null ? singleJump(first) : jumps.slice();
  const sum = { table, rules: c.rules, len: c.rules.length, jumps: kept, allowed: mask, badTable, nfacct, conntrack };
  c.summary = sum;
  return sum;
}

/**
 * The hooks each chain is reached from, as a bit set per chain, following jumps and gotos from the built-in
 * chains.
 */
function reachingHookBits(table: TableName, chains: ChainSet, sum: (c: Chain) => ChainSummary): Map<string, number> {
  const out = new Map<string, number>();
  for (const hook of BUILTIN_CHAINS[table]) {
    const bit = HOOK_BIT[hook];
    const start = chains.get(hook);
    if (start === undefined) continue;
    out.set(hook, (out.get(hook) ?? 0) | bit);
    const stack: Chain[] = [start];
    while (stack.length > 0) {
      for (const to of sum(stack.pop()!).jumps) {
        const prev = out.get(to) ?? 0;
        if ((prev & bit) !== 0) continue;
        const next = chains.get(to);
        if (next === undefined) continue;
        out.set(to, prev | bit);
        stack.push(next);
      }
    }
  }
  return out;
}

/** The hooks each chain is reached from, following jumps and gotos from the built-in chains. */
export function reachingHooks(table: TableName, chains: ReadonlyMap<string, Chain>): Map<string, Set<NfHook>> {
  const out = new Map<string, Set<NfHook>>();
  for (const [name, bits] of reachingHookBits(table, chains, (c) => summarise(c, table)))
    out.set(name, new Set(hooksOf(bits)));
  return out;
}

/** Allowed-hook bits per hook list, so each rule's check is one AND. */
const allowedBits = new WeakMap<readonly NfHook[], number>();

function allowed(hooks: readonly NfHook[]): number {
  let b = allowedBits.get(hooks);
  if (b === undefined) {
    b = bitsOf(hooks);
    allowedBits.set(hooks, b);
  }
  return b;
}

/** The facts of a rule (see RuleFacts), read from its target and matches. */
export function factsOf(r: Pick<Rule, 'target' | 'matches'>): RuleFacts {
  const t = r.target;
  let hooks = t?.hooks ? allowed(t.hooks) : ALL_HOOKS;
  let conntrack = t !== null && CONNTRACK_TARGETS.has(t.name);
  let nfacct: string[] = NONE;
  for (const m of r.matches) {
    if (m.hooks) hooks &= allowed(m.hooks);
    if (m instanceof NfacctMatch) nfacct = [...nfacct, m.acct];
    if (CONNTRACK_MATCHES.has(m.name)) conntrack = true;
  }
  return { jumpTo: t?.jumpTo, tables: t?.tables, hooks, conntrack, nfacct };
}

/** How many chains after the last jump target found are tried before a lookup by name. */
const NEAR = 16;

/** How many commits were validated each way (for tests and benchmarks). */
export const validationStats = { incremental: 0, full: 0 };

/** The chains of a table as a commit would leave them, in table order. */
export interface ChainSet {
  readonly size: number;
  get(name: string): Chain | undefined;
  has(name: string): boolean;
  values(): Iterable<Chain>;
  /** Each chain in table order. */
  forEach(fn: (c: Chain) => void): void;
}

/**
 * A number per chain name (0 when none was set): in a typed array over the chain numbers of the full validation that
 * made it, so a hundred thousand chains need no map entries of their own; a name numbered then is looked up in that
 * numbering, any other in a map of its own.
 */
export class ByName {
  private readonly extra = new Map<string, number>();

  constructor(
    private readonly num: ReadonlyMap<string, number>,
    private readonly arr: Int32Array,
  ) {}

  get(name: string): number {
    const i = this.num.get(name);
    return i === undefined ? (this.extra.get(name) ?? 0) : this.arr[i]!;
  }

  set(name: string, v: number): void {
    const i = this.num.get(name);
    if (i !== undefined) this.arr[i] = v;
    else if (v === 0) this.extra.delete(name);
    else this.extra.set(name, v);
  }
}

/**
 * Per chain, how many chains jumping to it are reached from each hook (index = hook bit position): five 6-bit fields
 * packed in one integer (`packed`) while each is 0–63 (a hundred thousand chains, each jumped to from one or two
 * others, keep no array), else an array in `wide` from then on.
 */
export interface HookCounts {
  readonly packed: ByName;
  readonly wide: Map<string, number[]>;
  /** Cleared while an incremental check changes the counts in place, set again when it succeeds. */
  valid: boolean;
}

/** A table that passed validation, with the hooks each reachable chain is reached from. */
export interface ValidatedTable {
  /** Hook bits of every chain (0: unreachable). Updated in place by the next successful incremental check. */
  readonly reach: ByName;
  /** Updated in place by the next incremental check. */
  readonly counts: HookCounts;
}

const FIELD = 6;
const FIELD_MAX = (1 << FIELD) - 1;

function bump(counts: HookCounts, to: string, bits: number, by: 1 | -1): void {
  if (bits === 0) return;
  const w = counts.wide.size === 0 ? undefined : counts.wide.get(to);
  if (w === undefined) {
    const v = counts.packed.get(to);
    let p = v;
    let h = 0;
    for (; h < 5; h++) {
      if ((bits & (1 << h)) === 0) continue;
      const c = ((p >>> (h * FIELD)) & FIELD_MAX) + by;
      if (c < 0 || c > FIELD_MAX) break;
      p = (p & ~(FIELD_MAX << (h * FIELD))) | (c << (h * FIELD));
    }
    if (h === 5) {
      counts.packed.set(to, p);
      return;
    }
    // A count outgrew its field: the chain keeps an array from now on.
    const a = [0, 0, 0, 0, 0];
    for (let k = 0; k < 5; k++) a[k] = (v >>> (k * FIELD)) & FIELD_MAX;
    counts.packed.set(to, 0);
    counts.wide.set(to, a);
    for (let k = 0; k < 5; k++) if ((bits & (1 << k)) !== 0) a[k]! += by;
    return;
  }
  for (let h = 0; h < 5; h++) if ((bits & (1 << h)) !== 0) w[h]! += by;
}

function bitsOfCounts(counts: HookCounts, name: string): number {
  const w = counts.wide.size === 0 ? undefined : counts.wide.get(name);
  let b = 0;
  if (w === undefined) {
    const p = counts.packed.get(name);
    for (let h = 0; h < 5; h++) if (((p >>> (h * FIELD)) & FIELD_MAX) > 0) b |= 1 << h;
    return b;
  }
  for (let h = 0; h < 5; h++) if (w[h]! > 0) b |= 1 << h;
  return b;
}

function forgetCounts(counts: HookCounts, name: string): void {
  counts.packed.set(name, 0);
  counts.wide.delete(name);
}

function sameJumps(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  if (a.length === 0) return true;
  const set = new Set(a);
  for (const x of b) if (!set.has(x)) return false;
  return true;
}

/**
 * Validation of a commit that changed few chains of a table that passed before, with the same outcome as
 * validating the whole table: jump targets of the changed chains exist; reach and loops are recomputed only
 * below the chains whose jump targets changed (a new loop or a change of reach can only come from a changed edge,
 * and the hooks of every other chain are as before), carried down with per-hook counts of reached predecessors;
 * rules are checked in the changed chains and in those whose hooks changed. Returns null when the change is large
 * or anything looks wrong — the full validation then decides, and words any error exactly as it always does.
 */
function validateIncremental(
  table: TableName,
  chains: ChainSet,
  since: SinceValidated,
  opts: ValidateOptions,
): ValidatedTable | null {
  const { prev, deleted } = since;
  const oldChains = since.old;
  const sum = (c: Chain) => summarise(c, table);
  if (since.changed.length + deleted.length > chains.size / 8) return null;
  const changed: Chain[] = [];
  const roots = new Set<string>();
  for (const name of since.changed) {
    const c = chains.get(name)!;
    const old = oldChains.get(name);
    changed.push(c);
    if (old === undefined || !sameJumps(sum(old).jumps, sum(c).jumps)) roots.add(name);
  }
  // A chain that jumps where it jumped before jumped to chains that existed (the table passed): only a deleted one
  // can be missing now.
  const gone = deleted.length === 0 ? null : new Set(deleted);
  for (const c of changed) {
    if (roots.has(c.name)) {
      for (const to of sum(c).jumps) if (!chains.has(to)) return null;
    } else if (gone !== null) for (const to of sum(c).jumps) if (gone.has(to)) return null;
  }
  if (!prev.counts.valid) return null;
  // Chains whose reach may differ: below the roots in the new graph, and below the roots and the deleted chains
  // in the old one (a chain below only in the old graph jumps where it jumped before).
  const below = new Set<string>();
  const walk = (from: Iterable<string>, graph: ChainSet) => {
    const seen = new Set<string>();
    const stack = [...from];
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      if (chains.has(name)) below.add(name);
      const c = graph.get(name);
      if (c !== undefined) for (const to of sum(c).jumps) if (graph.has(to)) stack.push(to);
    }
  };
  walk(roots, chains);
  walk(
    [...roots, ...deleted].filter((n) => oldChains.has(n)),
    oldChains,
  );
  if (below.size > chains.size / 4) return null;
  // Below the roots the new graph must be acyclic (any new loop passes through a changed edge); post-order gives
  // the order to carry hooks down in.
  const state = new Map<string, number>();
  const order: string[] = [];
  for (const start of below) {
    if (state.has(start)) continue;
    const stack: { name: string; i: number; jumps: readonly string[] }[] = [];
    const push = (name: string) => {
      state.set(name, 1);
      stack.push({ name, i: 0, jumps: sum(chains.get(name)!).jumps });
    };
    push(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.i < top.jumps.length) {
        const to = top.jumps[top.i++]!;
        if (!below.has(to)) continue;
        const st = state.get(to);
        if (st === 1) return null;
        if (st === undefined) push(to);
      } else {
        state.set(top.name, 2);
        order.push(top.name);
        stack.pop();
      }
    }
  }
  // From here on the counts change in place; until this check succeeds they describe neither table.
  const counts = prev.counts;
  counts.valid = false;
  const oldBits = (n: string) => prev.reach.get(n);
  // Edges that went away stop counting with the hooks their source had.
  for (const name of [...roots, ...deleted]) {
    const old = oldChains.get(name);
    if (old === undefined) continue;
    const cur = chains.get(name);
    const curSet = new Set(cur ? sum(cur).jumps : []);
    for (const to of sum(old).jumps) if (!curSet.has(to) && oldChains.has(to)) bump(counts, to, oldBits(name), -1);
  }
  for (const name of deleted) forgetCounts(counts, name);
  const builtin = new Set<string>(BUILTIN_CHAINS[table]);
  const delta = new Map<string, number>();
  const moved: string[] = [];
  for (let i = order.length - 1; i >= 0; i--) {
    const name = order[i]!;
    const bits = (builtin.has(name) ? HOOK_BIT[name as NfHook] : 0) | bitsOfCounts(counts, name);
    const was = oldBits(name);
    if (bits !== was) {
      moved.push(name);
      delta.set(name, bits);
    }
    const old = roots.has(name) ? oldChains.get(name) : undefined;
    const oldSet = old !== undefined ? new Set(sum(old).jumps) : null;
    for (const to of sum(chains.get(name)!).jumps) {
      if (!chains.has(to)) continue;
      if (roots.has(name) && (oldSet === null || !oldSet.has(to))) bump(counts, to, bits, 1);
      else if (bits !== was) {
        bump(counts, to, was & ~bits, -1);
        bump(counts, to, bits & ~was, 1);
      }
    }
  }
  const reachOf = (n: string) => delta.get(n) ?? oldBits(n);
  const check = (c: Chain): boolean => {
    const s = sum(c);
    if (s.badTable || (reachOf(c.name) & ~s.allowed) !== 0) return false;
    return opts.nfacct === undefined || s.nfacct.every((n) => opts.nfacct!.objects.has(n));
  };
  for (const c of changed) if (!check(c)) return null;
  for (const name of moved) if (!check(chains.get(name)!)) return null;
  const reach = prev.reach;
  for (const name of deleted) reach.set(name, 0);
  for (const [name, bits] of delta) reach.set(name, bits);
  counts.valid = true;
  return { reach, counts };
}

/** The table that passed last, and what the commit being checked changed in it. */
export interface SinceValidated {
  prev: ValidatedTable;
  /** The chains as they passed. */
  old: ReadonlyMap<string, Chain>;
  /** Chains created or replaced (a different chain object under the name), and chains deleted. */
  changed: readonly string[];
  deleted: readonly string[];
}

/**
 * Validates a table like the kernel; throws IptablesError when it would be refused. `prev`, the table as it
 * last passed, lets a commit that changed few chains be checked without walking the whole table again.
 */
export function validateTable(
  table: TableName,
  chains: ChainSet,
  opts: ValidateOptions = {},
  since: SinceValidated | null = null,
): ValidatedTable {
  if (since !== null) {
    const quick = validateIncremental(table, chains, since, opts);
    if (quick !== null) {
      validationStats.incremental++;
      return quick;
    }
  }
  validationStats.full++;
  // The whole table as a graph over chain numbers (table order), each jump target looked up once.
  const list: Chain[] = [];
  const num = new Map<string, number>();
  chains.forEach((c) => {
    num.set(c.name, list.length);
    list.push(c);
  });
  const n = list.length;
  const sums: ChainSummary[] = new Array(n);
  const first = new Int32Array(n + 1);
  const edges: number[] = [];
  // Chains mostly jump to chains that come a little after them in table order (kube-proxy declares a Service's
  // endpoint chains right after its service chain, and KUBE-SERVICES jumps to the service chains in their order):
  // the next few chains after the chain, then after the last one it jumps to, are compared by name before the map
  // is asked.
  let lastName = '';
  let lastNum = 0;
  for (let i = 0; i < n; i++) {
    const c = list[i]!;
    const s = summarise(c, table);
    sums[i] = s;
    first[i] = edges.length;
    let near = i + 1;
    for (const to of s.jumps) {
      // The chain looked up last is asked for again and again (KUBE-MARK-MASQ, from most chains).
      let j: number | undefined = to === lastName ? lastNum : undefined;
      const end = j === undefined ? Math.min(n, near + NEAR) : near;
      for (let k = near; k < end; k++) {
        if (list[k]!.name === to) {
          j = k;
          near = k + 1;
          break;
        }
      }
      if (j === undefined) {
        j = num.get(to);
        if (j !== undefined) {
          lastName = to;
          lastNum = j;
        }
      }
      if (j !== undefined) {
        edges.push(j);
        continue;
      }
      const r = c.rules.find((x) => x.target?.jumpTo === to)!;
      fail(`iptables: Chain '${to}' does not exist`, rulePos(r), opts);
    }
  }
  first[n] = edges.length;
  const order: number[] = [];
  const loop = findLoopIn(table, list, num, first, edges, order);
  if (loop) {
    fail(`iptables: Too many levels of symbolic links (jump loop ${loop.path.join(' -> ')})`, rulePos(loop.rule), opts);
  }
  // The reachable graph is acyclic now: one pass in reverse post-order carries each chain's hooks to the chains it
  // jumps to, every edge once.
  const bitsOf = new Int32Array(n);
  for (const hook of BUILTIN_CHAINS[table]) {
    const i = num.get(hook);
    if (i !== undefined) bitsOf[i] = HOOK_BIT[hook];
  }
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k]!;
    const bits = bitsOf[i]!;
    for (let e = first[i]!; e < first[i + 1]!; e++) bitsOf[edges[e]!]! |= bits;
  }
  for (let ci = 0; ci < n; ci++) {
    const c = list[ci]!;
    const bits = bitsOf[ci]!;
    const s = sums[ci]!;
    const nfacctMissing = opts.nfacct !== undefined && s.nfacct.some((n) => !opts.nfacct!.objects.has(n));
    if (!s.badTable && (bits & ~s.allowed) === 0 && !nfacctMissing) continue;
    // Something is wrong in this chain: find the first offending rule, as the kernel reports it.
    const rules = c.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      const t = r.target;
      if (t?.tables && !t.tables.includes(table)) {
        fail(
          `iptables: Invalid argument (ip_tables: ${t.name} target: only valid in ${t.tables.join('/')} table, not ${table}; rule ${i + 1} in chain ${c.name})`,
          rulePos(r),
          opts,
        );
      }
      if (t?.hooks && (bits & ~allowed(t.hooks)) !== 0) {
        fail(
          `iptables: Invalid argument (ip_tables: ${t.name} target: used from hooks ${hookList(hooksOf(bits))}, but only usable from ${hookList(t.hooks)}; rule ${i + 1} in chain ${c.name})`,
          rulePos(r),
          opts,
        );
      }
      for (const m of r.matches) {
        if (m.hooks && (bits & ~allowed(m.hooks)) !== 0) {
          fail(
            `iptables: Invalid argument (ip_tables: ${m.name} match: used from hooks ${hookList(hooksOf(bits))}, but only usable from ${hookList(m.hooks)}; rule ${i + 1} in chain ${c.name})`,
            r.pos,
            opts,
          );
        }
        if (opts.nfacct && m instanceof NfacctMatch && !opts.nfacct.objects.has(m.acct)) {
          fail(
            `iptables: No such file or directory (nfacct: accounting object \`${m.acct}' does not exist; rule ${i + 1} in chain ${c.name})`,
            r.pos,
            opts,
          );
        }
      }
    }
  }
  // Per chain, how many chains jumping to it are reached from each hook: counted by chain number, then packed.
  const perHook = new Int32Array(n * 5);
  for (let i = 0; i < n; i++) {
    const bits = bitsOf[i]!;
    if (bits === 0) continue;
    for (let e = first[i]!; e < first[i + 1]!; e++) {
      const at = edges[e]! * 5;
      for (let h = 0; h < 5; h++) if ((bits & (1 << h)) !== 0) perHook[at + h]!++;
    }
  }
  const packed = new Int32Array(n);
  const wide = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    let p = 0;
    let over = false;
    for (let h = 0; h < 5; h++) {
      const c = perHook[i * 5 + h]!;
      if (c > FIELD_MAX) over = true;
      p |= (c & FIELD_MAX) << (h * FIELD);
    }
    if (over) wide.set(list[i]!.name, Array.from(perHook.subarray(i * 5, i * 5 + 5)));
    else packed[i] = p;
  }
  return {
    reach: new ByName(num, bitsOf),
    counts: { packed: new ByName(num, packed), wide, valid: true },
  };
}

/**
 * findLoop over the numbered graph: the same depth-first walk from the built-in chains (in hook order, each
 * chain's jumps in order), without recursion.
 */
function findLoopIn(
  table: TableName,
  list: readonly Chain[],
  num: ReadonlyMap<string, number>,
  first: Int32Array,
  edges: readonly number[],
  postOrder: number[],
): { path: string[]; rule: Rule } | null {
  // 0: not seen, 1: on the current path, 2: done.
  const state = new Uint8Array(list.length);
  const path: number[] = [];
  const next: number[] = [];
  for (const hook of BUILTIN_CHAINS[table]) {
    const start = num.get(hook);
    if (start === undefined || state[start] !== 0) continue;
    state[start] = 1;
    path.push(start);
    next.push(first[start]!);
    while (path.length > 0) {
      const top = path.length - 1;
      const i = path[top]!;
      const e = next[top]!;
      if (e < first[i + 1]!) {
        next[top] = e + 1;
        const to = edges[e]!;
        if (state[to] === 1) {
          const name = list[to]!.name;
          const rule = list[i]!.rules.find((r) => r.target?.jumpTo === name)!;
          const names = path.slice(path.indexOf(to)).map((k) => list[k]!.name);
          return { path: [...names, name], rule };
        }
        if (state[to] === 0) {
          state[to] = 1;
          path.push(to);
          next.push(first[to]!);
        }
        continue;
      }
      path.pop();
      next.pop();
      state[i] = 2;
      postOrder.push(i);
    }
  }
  return null;
}
