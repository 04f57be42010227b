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

import type { NfHook } from '../netns/hooks.js';
import { IptablesError } from './errors.js';
import type { NfacctStore } from './matches/nfacct.js';
import { NfacctMatch } from './matches/nfacct.js';
import { targetPosOf } from './rule-spec.js';
import { BUILTIN_CHAINS, type Chain, type Rule, type SrcPos, type TableName } from './types.js';

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

/** What validation needs of one chain, computed once per chain object. */
interface ChainSummary {
  readonly rules: readonly Rule[];
  readonly len: number;
  /** Jump/goto targets in order of first use. */
  readonly jumps: readonly string[];
  /** Hooks every target and match of the chain allows (ALL_HOOKS when none is restricted). */
  readonly allowed: number;
  /** A target refuses this table. */
  readonly badTable: boolean;
  readonly nfacct: readonly string[];
}

const summaries = new WeakMap<Chain, ChainSummary>();

function summarise(c: Chain, table: TableName): ChainSummary {
  const hit = summaries.get(c);
  if (hit !== undefined && hit.rules === c.rules && hit.len === c.rules.length) return hit;
  const jumps: string[] = [];
  const seen = new Set<string>();
  const nfacct: string[] = [];
  let mask = ALL_HOOKS;
  let badTable = false;
  for (const r of c.rules) {
    const t = r.target;
    if (t !== null) {
      const to = t.jumpTo;
      if (to !== undefined && !seen.has(to)) {
        seen.add(to);
        jumps.push(to);
      }
      if (t.tables && !t.tables.includes(table)) badTable = true;
      if (t.hooks) mask &= allowed(t.hooks);
    }
    for (const m of r.matches) {
      if (m.hooks) mask &= allowed(m.hooks);
      if (m instanceof NfacctMatch) nfacct.push(m.acct);
    }
  }
  const sum = { rules: c.rules, len: c.rules.length, jumps, allowed: mask, badTable, nfacct };
  summaries.set(c, sum);
  return sum;
}

/**
 * The hooks each chain is reached from, as a bit set per chain, following jumps and gotos from the built-in
 * chains.
 */
function reachingHookBits(
  table: TableName,
  chains: ReadonlyMap<string, Chain>,
  sum: (c: Chain) => ChainSummary,
): Map<string, number> {
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

/**
 * A chain path that ends where it started, reachable from a built-in chain, or null. Without a loop, `postOrder`
 * receives every reachable chain after all the chains it jumps to.
 */
function findLoop(
  table: TableName,
  chains: ReadonlyMap<string, Chain>,
  sum: (c: Chain) => ChainSummary,
  postOrder: string[],
): { path: string[]; rule: Rule } | null {
  const state = new Map<string, 'active' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): { path: string[]; rule: Rule } | null => {
    state.set(name, 'active');
    path.push(name);
    const c = chains.get(name);
    for (const to of c ? sum(c).jumps : []) {
      if (!chains.has(to)) continue;
      const s = state.get(to);
      if (s === 'active') {
        const rule = c!.rules.find((r) => r.target?.jumpTo === to)!;
        return { path: [...path.slice(path.indexOf(to)), to], rule };
      }
      if (s === undefined) {
        const found = visit(to);
        if (found) return found;
      }
    }
    path.pop();
    state.set(name, 'done');
    postOrder.push(name);
    return null;
  };
  for (const hook of BUILTIN_CHAINS[table]) {
    if (state.has(hook)) continue;
    const found = visit(hook);
    if (found) return found;
  }
  return null;
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

/** How many commits were validated each way (for tests and benchmarks). */
export const validationStats = { incremental: 0, full: 0 };

/** A table that passed validation, with the hooks each reachable chain is reached from. */
export interface ValidatedTable {
  readonly chains: ReadonlyMap<string, Chain>;
  /** Hook bits of every reachable chain. Updated in place by the next successful incremental check. */
  readonly reach: Map<string, number>;
  /**
   * Per chain, how many chains jumping to it are reached from each hook (index = bit position). Updated in place
   * by the next incremental check, which clears `valid` while it works.
   */
  readonly counts: { map: Map<string, Int32Array>; valid: boolean };
}

function bump(counts: Map<string, Int32Array>, to: string, bits: number, by: 1 | -1): void {
  if (bits === 0) return;
  let a = counts.get(to);
  if (a === undefined) {
    a = new Int32Array(5);
    counts.set(to, a);
  }
  for (let h = 0; h < 5; h++) if ((bits & (1 << h)) !== 0) a[h]! += by;
}

function bitsOfCounts(a: Int32Array | undefined): number {
  if (a === undefined) return 0;
  let b = 0;
  for (let h = 0; h < 5; h++) if (a[h]! > 0) b |= 1 << h;
  return b;
}

function buildCounts(
  chains: ReadonlyMap<string, Chain>,
  reach: ReadonlyMap<string, number>,
  sum: (c: Chain) => ChainSummary,
): Map<string, Int32Array> {
  const counts = new Map<string, Int32Array>();
  for (const [name, bits] of reach) {
    const c = chains.get(name);
    if (c !== undefined) for (const to of sum(c).jumps) if (chains.has(to)) bump(counts, to, bits, 1);
  }
  return counts;
}

function sameJumps(a: readonly string[], b: readonly string[]): boolean {
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
  chains: ReadonlyMap<string, Chain>,
  prev: ValidatedTable,
  opts: ValidateOptions,
): ValidatedTable | null {
  const sum = (c: Chain) => summarise(c, table);
  const changed: Chain[] = [];
  const roots = new Set<string>();
  let added = 0;
  for (const [name, c] of chains) {
    const old = prev.chains.get(name);
    if (old === c) continue;
    changed.push(c);
    if (old === undefined) added++;
    if (old === undefined || !sameJumps(sum(old).jumps, sum(c).jumps)) roots.add(name);
  }
  const deleted: string[] = [];
  if (prev.chains.size > chains.size - added)
    for (const name of prev.chains.keys()) if (!chains.has(name)) deleted.push(name);
  if (changed.length + deleted.length > chains.size / 8) return null;
  for (const c of changed) for (const to of sum(c).jumps) if (!chains.has(to)) return null;
  if (!prev.counts.valid) return null;
  // Chains whose reach may differ: below the roots in the new graph, and below the roots and the deleted chains
  // in the old one (a chain below only in the old graph jumps where it jumped before).
  const below = new Set<string>();
  const walk = (from: Iterable<string>, graph: ReadonlyMap<string, Chain>) => {
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
    [...roots, ...deleted].filter((n) => prev.chains.has(n)),
    prev.chains,
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
  const countsRef = prev.counts;
  countsRef.valid = false;
  const counts = countsRef.map;
  const oldBits = (n: string) => prev.reach.get(n) ?? 0;
  // Edges that went away stop counting with the hooks their source had.
  for (const name of [...roots, ...deleted]) {
    const old = prev.chains.get(name);
    if (old === undefined) continue;
    const cur = chains.get(name);
    const curSet = new Set(cur ? sum(cur).jumps : []);
    for (const to of sum(old).jumps) if (!curSet.has(to) && prev.chains.has(to)) bump(counts, to, oldBits(name), -1);
  }
  for (const name of deleted) counts.delete(name);
  const builtin = new Set<string>(BUILTIN_CHAINS[table]);
  const delta = new Map<string, number>();
  const moved: string[] = [];
  for (let i = order.length - 1; i >= 0; i--) {
    const name = order[i]!;
    const bits = (builtin.has(name) ? HOOK_BIT[name as NfHook] : 0) | bitsOfCounts(counts.get(name));
    const was = oldBits(name);
    if (bits !== was) {
      moved.push(name);
      delta.set(name, bits);
    }
    const old = roots.has(name) ? prev.chains.get(name) : undefined;
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
  for (const name of deleted) reach.delete(name);
  for (const [name, bits] of delta) {
    if (bits === 0) reach.delete(name);
    else reach.set(name, bits);
  }
  countsRef.valid = true;
  return { chains, reach, counts: countsRef };
}

/**
 * Validates a table like the kernel; throws IptablesError when it would be refused. `prev`, the table as it
 * last passed, lets a commit that changed few chains be checked without walking the whole table again.
 */
export function validateTable(
  table: TableName,
  chains: ReadonlyMap<string, Chain>,
  opts: ValidateOptions = {},
  prev: ValidatedTable | null = null,
): ValidatedTable {
  if (prev !== null) {
    const quick = validateIncremental(table, chains, prev, opts);
    if (quick !== null) {
      validationStats.incremental++;
      return quick;
    }
  }
  validationStats.full++;
  const sum = (c: Chain) => summarise(c, table);
  for (const c of chains.values()) {
    for (const to of sum(c).jumps) {
      if (chains.has(to)) continue;
      const r = c.rules.find((x) => x.target?.jumpTo === to)!;
      fail(`iptables: Chain '${to}' does not exist`, rulePos(r), opts);
    }
  }
  const order: string[] = [];
  const loop = findLoop(table, chains, sum, order);
  if (loop) {
    fail(`iptables: Too many levels of symbolic links (jump loop ${loop.path.join(' -> ')})`, rulePos(loop.rule), opts);
  }
  // The reachable graph is acyclic now: one pass in reverse post-order carries each chain's hooks to the chains it
  // jumps to, every edge once.
  const reach = new Map<string, number>();
  for (const hook of BUILTIN_CHAINS[table]) reach.set(hook, HOOK_BIT[hook]);
  for (let i = order.length - 1; i >= 0; i--) {
    const name = order[i]!;
    const bits = reach.get(name) ?? 0;
    for (const to of sum(chains.get(name)!).jumps) if (chains.has(to)) reach.set(to, (reach.get(to) ?? 0) | bits);
  }
  for (const c of chains.values()) {
    const bits = reach.get(c.name) ?? 0;
    const s = sum(c);
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
  return { chains, reach, counts: { map: buildCounts(chains, reach, sum), valid: true } };
}
