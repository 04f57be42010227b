// The netfilter model as the rest of podwire (and library users) drive it: the commands of a node's shell —
// `iptables …`, `iptables-restore`, `iptables-save`, `conntrack -L/-D/-F` — applied to one namespace.

import type { Kernel } from '../netns/kernel.js';
import type { NetNs } from '../netns/netns.js';
import { argsOf } from './args.js';
import { applyIptablesCommand, parseIptablesArgs } from './command.js';
import { type CtFilter, formatConntrackList } from './conntrack/index.js';
import { jumpToOf } from './lazy-rule.js';
import { type NsNetfilter, netfilterOf } from './netfilter.js';
import { type RestoreOptions, restoreInto } from './restore.js';
import { formatSave, type SaveOptions } from './save.js';
import type { NetfilterState } from './state.js';
import { BUILTIN_CHAINS, type SrcPos, type TableName } from './types.js';

export { IptablesError } from './errors.js';
export { NsNetfilter, netfilterOf } from './netfilter.js';
export type { RestoreOptions } from './restore.js';
export type { SaveOptions } from './save.js';

/** Chains with at least this many rules have their restore lines kept parsed (rule-cache.ts). */
const LONG_CHAIN = 16;

/** A rule of one of `table`'s built-in chains jumps or goes to `chain`. */
function jumpedFromBuiltin(st: NetfilterState, table: TableName, chain: string): boolean {
  for (const hook of BUILTIN_CHAINS[table]) {
    if (st.chain(table, hook)?.rules.some((r) => jumpToOf(r) === chain)) return true;
  }
  return false;
}

/** Makes every namespace (existing and future) able to hold iptables rules. Rules hook in when written. */
export function enableNetfilter(k: Kernel): void {
  k.onNetnsCreated((ns) => {
    netfilterOf(ns);
  });
}

/** `iptables-restore [--noflush]` with `text` on standard input. Atomic: on error nothing changes. */
export function iptablesRestore(
  ns: NetNs,
  text: string,
  opts: RestoreOptions & { file?: string; firstLine?: number } = {},
): void {
  const nf = netfilterOf(ns);
  const st = nf.state;
  // The lines worth keeping parsed are those a loader such as kube-proxy sends again on every sync: the lines of
  // chains that exist now and are long (KUBE-SERVICES, a rule per Service) or are jumped to from a built-in chain
  // (its entry chains, rewritten whole each time). Lines of short inner or new chains are rarely sent twice; their
  // rules are kept as text until needed instead (lazy-rule.ts).
  let lastTable: TableName | null = null;
  let lastChain = '';
  let lastKeep = false;
  const keep = (table: TableName, chain: string): boolean => {
    if (table === lastTable && chain === lastChain) return lastKeep;
    lastTable = table;
    lastChain = chain;
    const c = st.chain(table, chain);
    lastKeep = c !== undefined && (c.rules.length >= LONG_CHAIN || jumpedFromBuiltin(st, table, chain));
    return lastKeep;
  };
  restoreInto(st, text, opts.file ?? '<iptables-restore>', opts.firstLine ?? 1, opts, keep);
  nf.sync();
}

/** `iptables-save [-c] [-t table]`. */
export function iptablesSave(ns: NetNs, opts: SaveOptions = {}): string {
  return formatSave(netfilterOf(ns).state, opts);
}

/** One `iptables …` command line (without the program name); returns what it prints. */
export function iptables(ns: NetNs, words: readonly string[], pos?: SrcPos): string {
  const nf = netfilterOf(ns);
  const out = applyIptablesCommand(nf.state, parseIptablesArgs(argsOf(words), pos));
  nf.sync();
  return out;
}

/** `conntrack -L` of the namespace (empty when nothing enabled connection tracking there). */
export function conntrackList(ns: NetNs): string {
  const nf = netfilterOf(ns);
  return nf.conntrack ? formatConntrackList(nf.conntrack, ns.kernel.now) : '';
}

/** `conntrack -D` with a filter (kube-proxy's stale UDP cleanup); returns the number deleted. */
export function conntrackDelete(ns: NetNs, filter: CtFilter): number {
  const nf: NsNetfilter = netfilterOf(ns);
  return nf.conntrack ? nf.conntrack.deleteWhere(filter).length : 0;
}

/** `conntrack -F`. */
export function conntrackFlush(ns: NetNs): number {
  const nf = netfilterOf(ns);
  return nf.conntrack ? nf.conntrack.flush() : 0;
}
