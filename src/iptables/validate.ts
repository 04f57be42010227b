// The checks the kernel makes before it accepts a table (ip_tables' translate_table and mark_source_chains, and
// nf_tables' chain validation): every jump or goto names an existing chain; no chain reachable from a built-in chain
// can reach itself again (a loop is refused, an unreachable one is left alone, as in the kernel); every target and
// match is allowed in the table and in every hook its chain is reached from (xt_check_target/xt_check_match, e.g.
// DNAT only from PREROUTING/OUTPUT, REJECT only in filter); nfacct objects exist. Messages follow iptables and add
// the kernel's log line, since the emulator has no dmesg.

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

/** The hooks each chain is reached from, following jumps and gotos from the built-in chains. */
export function reachingHooks(table: TableName, chains: ReadonlyMap<string, Chain>): Map<string, Set<NfHook>> {
  const out = new Map<string, Set<NfHook>>();
  for (const hook of BUILTIN_CHAINS[table]) {
    const stack = [hook as string];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      let set = out.get(name);
      if (set === undefined) {
        set = new Set();
        out.set(name, set);
      }
      set.add(hook);
      for (const r of chains.get(name)?.rules ?? []) {
        const to = r.target?.jumpTo;
        if (to !== undefined && chains.has(to)) stack.push(to);
      }
    }
  }
  return out;
}

/** A chain path that ends where it started, reachable from a built-in chain, or null. */
function findLoop(table: TableName, chains: ReadonlyMap<string, Chain>): { path: string[]; rule: Rule } | null {
  const state = new Map<string, 'active' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): { path: string[]; rule: Rule } | null => {
    state.set(name, 'active');
    path.push(name);
    for (const r of chains.get(name)?.rules ?? []) {
      const to = r.target?.jumpTo;
      if (to === undefined || !chains.has(to)) continue;
      const s = state.get(to);
      if (s === 'active') return { path: [...path.slice(path.indexOf(to)), to], rule: r };
      if (s === undefined) {
        const found = visit(to);
        if (found) return found;
      }
    }
    path.pop();
    state.set(name, 'done');
    return null;
  };
  for (const hook of BUILTIN_CHAINS[table]) {
    if (state.has(hook)) continue;
    const found = visit(hook);
    if (found) return found;
  }
  return null;
}

export function validateTable(table: TableName, chains: ReadonlyMap<string, Chain>, opts: ValidateOptions = {}): void {
  for (const c of chains.values()) {
    for (const r of c.rules) {
      const to = r.target?.jumpTo;
      if (to !== undefined && !chains.has(to)) fail(`iptables: Chain '${to}' does not exist`, rulePos(r), opts);
    }
  }
  const loop = findLoop(table, chains);
  if (loop) {
    fail(`iptables: Too many levels of symbolic links (jump loop ${loop.path.join(' -> ')})`, rulePos(loop.rule), opts);
  }
  const reach = reachingHooks(table, chains);
  for (const c of chains.values()) {
    const hooks = reach.get(c.name) ?? new Set<NfHook>();
    c.rules.forEach((r, i) => {
      // Built only for an error: every commit validates every rule, and most tables are valid.
      const where = () => `rule ${i + 1} in chain ${c.name}`;
      const t = r.target;
      if (t?.tables && !t.tables.includes(table)) {
        fail(
          `iptables: Invalid argument (ip_tables: ${t.name} target: only valid in ${t.tables.join('/')} table, not ${table}; ${where()})`,
          rulePos(r),
          opts,
        );
      }
      if (t?.hooks) {
        const bad = [...hooks].filter((h) => !t.hooks!.includes(h));
        if (bad.length > 0) {
          fail(
            `iptables: Invalid argument (ip_tables: ${t.name} target: used from hooks ${hookList(hooks)}, but only usable from ${hookList(t.hooks)}; ${where()})`,
            rulePos(r),
            opts,
          );
        }
      }
      for (const m of r.matches) {
        if (m.hooks) {
          const bad = [...hooks].filter((h) => !m.hooks!.includes(h));
          if (bad.length > 0) {
            fail(
              `iptables: Invalid argument (ip_tables: ${m.name} match: used from hooks ${hookList(hooks)}, but only usable from ${hookList(m.hooks)}; ${where()})`,
              r.pos,
              opts,
            );
          }
        }
        if (opts.nfacct && m instanceof NfacctMatch && !opts.nfacct.objects.has(m.acct)) {
          fail(
            `iptables: No such file or directory (nfacct: accounting object \`${m.acct}' does not exist; ${where()})`,
            r.pos,
            opts,
          );
        }
      }
    });
  }
}
